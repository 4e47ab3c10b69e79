package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// tunnelOptions are ppg tunnel's flags and dependencies.
type tunnelOptions struct {
	deps
	host       string
	port       int
	noLocalTLS bool
}

// newTunnelCmd is ppg tunnel; runF, if set, runs instead of the tunnel.
func newTunnelCmd(d deps, runF func(context.Context, *tunnelOptions) error) *cobra.Command {
	opts := &tunnelOptions{deps: d}
	cmd := &cobra.Command{
		Use:   "tunnel",
		Short: "Open a local tunnel to an Early Access database",
		Long: `tunnel listens on a local port and carries every Postgres connection to
the database of your API key, through Prisma's authenticated gateway.

The key is read from PDP_API_KEY, then DATABASE_URL (a prisma+postgres://
URL with api_key), each from the environment or else from ./.env. The
gateway is wss://ppg-tunnel.prisma-data.net/websocket unless PPG_WS_URL says
otherwise.

Clients connect with any user name and no password. The connection to the
gateway is always TLS. The tunnel also accepts SSL from local clients, with a
self-signed certificate made in memory at start, so sslmode=require works as
well as the default (prefer) and disable; verify-ca and verify-full cannot
work, since no authority signs that certificate. --no-local-tls answers every
SSL request with "no" instead, as a server without SSL does.`,
		Example: `  # Tunnel to the database of the key in ./.env, on a random port
  ppg tunnel

  # A fixed port, then dump through it
  PDP_API_KEY=eyJhbGciOi... ppg tunnel --port 5433
  pg_dump -h 127.0.0.1 -p 5433 -d postgres -Fc -f db.dump`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.port < 0 || opts.port > 65535 {
				return words.UsageError{Err: fmt.Errorf("--port %d is not a port number (0 to 65535; 0 picks a free one)", opts.port)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTunnel(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.host, "host", "127.0.0.1", "address to listen on")
	cmd.Flags().IntVar(&opts.port, "port", 0, "port to listen on (0: a free one)")
	cmd.Flags().BoolVar(&opts.noLocalTLS, "no-local-tls", false, "refuse SSL from local clients (sslmode=require then fails)")
	return cmd
}

// runTunnel checks the key with the gateway, then carries local
// connections until ctx is done.
func runTunnel(ctx context.Context, o *tunnelOptions) error {
	errOut := o.io.errOut
	dir, err := o.getwd()
	if err != nil {
		return err
	}
	cred, source, err := tunnel.LoadKey(o.lookupEnv, dir)
	if err != nil {
		return err
	}
	if cred.Direct() {
		return fmt.Errorf("%s is a direct connection URL (%s): it needs no tunnel; connect to it directly", source, cred)
	}
	cfg := tunnel.Config{
		Key:        cred.APIKey,
		Endpoint:   o.endpoint(),
		UserAgent:  o.build.userAgent(),
		Address:    net.JoinHostPort(o.host, strconv.Itoa(o.port)),
		Logf:       timestamped(errOut),
		NoLocalTLS: o.noLocalTLS,
	}
	// Refuse a wrong key now, rather than at the first client's connection.
	if err := tunnel.Check(ctx, cfg); err != nil {
		return err
	}
	t, err := tunnel.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = t.Close() }()
	o.banner(t.Addr().(*net.TCPAddr), fmt.Sprintf("%s (%s)", source, cred))

	<-ctx.Done()
	if n := t.Active(); n > 0 {
		_, _ = fmt.Fprintf(errOut, "stopping: closing %d live connection(s)\n", n)
	}
	if err := t.Close(); err != nil {
		return fmt.Errorf("stop the tunnel: %w", err)
	}
	_, _ = fmt.Fprintln(errOut, "tunnel stopped")
	return nil
}

// banner says where the tunnel listens for the database of key, and how
// to connect; a warning goes first when the address is not loopback.
func (o *tunnelOptions) banner(addr *net.TCPAddr, key string) {
	// Show the address as asked for: Go reports 0.0.0.0 as [::].
	shown := net.JoinHostPort(o.host, strconv.Itoa(addr.Port))
	if ip := addr.IP; !ip.IsLoopback() {
		_, _ = fmt.Fprintf(o.io.errOut, "warning: listening on %s: anyone who can reach this address reaches the database, without a password\n", shown)
	}
	h, p := addr.IP.String(), addr.Port
	if addr.IP.IsUnspecified() {
		h = "127.0.0.1"
	}
	url := "postgresql://postgres@" + net.JoinHostPort(h, strconv.Itoa(p)) + "/postgres"
	_, _ = fmt.Fprintf(o.io.out, `ppg tunnel: the database of %s
Listening on %s via %s

Connect with any Postgres client:
  host      %s
  port      %d
  user      any name, e.g. postgres
  password  none
  database  postgres
  e.g.      psql "%s"

%s
Press Ctrl-C to stop.
`, key, shown, o.endpointHost(), h, p, url, sslNote(o.noLocalTLS))
}

// sslNote is the banner's word on sslmode.
func sslNote(noLocalTLS bool) string {
	if noLocalTLS {
		return `The connection to the gateway is TLS. Local SSL is off (--no-local-tls):
use sslmode=prefer (the default) or disable; sslmode=require fails.`
	}
	return `The connection to the gateway is TLS. Locally, sslmode=require, prefer (the
default) and disable all work; verify-ca and verify-full cannot, as the
tunnel's local certificate is self-signed.`
}

// endpoint is the gateway's URL: $PPG_WS_URL, else Prisma's.
func (o *tunnelOptions) endpoint() string {
	if v := o.getenv(tunnel.EndpointEnv); v != "" {
		return v
	}
	return tunnel.DefaultEndpoint
}

// endpointHost names the gateway, and the variable that chose it, for the
// banner.
func (o *tunnelOptions) endpointHost() string {
	e := o.endpoint()
	if e != tunnel.DefaultEndpoint {
		return e + " (" + tunnel.EndpointEnv + ")"
	}
	return e
}

// timestamped returns a Logf that writes one time-stamped line at a time.
func timestamped(w io.Writer) func(string, ...any) {
	var mu sync.Mutex
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = fmt.Fprintf(w, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}
