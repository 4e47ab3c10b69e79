package tunnel

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// HandshakeError is the gateway's refusal of a WebSocket handshake. Its text
// says what the gateway answered, with the request id that Prisma support
// asks for; what to do about it is the front end's to say.
type HandshakeError struct {
	// Status is the HTTP status of the gateway's answer.
	Status int
	// RequestID is the gateway's prisma-request-id header, if it sent one.
	RequestID string
}

// Invalid reports whether the gateway rejected the key itself (HTTP 401).
func (e *HandshakeError) Invalid() bool { return e.Status == http.StatusUnauthorized }

// NoDatabase reports whether the key is valid but its environment has no
// Prisma Postgres database (HTTP 410).
func (e *HandshakeError) NoDatabase() bool { return e.Status == http.StatusGone }

// Unavailable reports whether the gateway itself is down or overloaded (an
// HTTP 5xx answer): the key is not at fault.
func (e *HandshakeError) Unavailable() bool { return e.Status >= 500 }

func (e *HandshakeError) Error() string {
	var msg string
	switch e.Status {
	case http.StatusUnauthorized:
		msg = "the gateway rejected the API key (HTTP 401): it is invalid or was revoked"
	case http.StatusGone:
		msg = "the API key belongs to an environment without a Prisma Postgres database (HTTP 410)"
	default:
		msg = fmt.Sprintf("the gateway refused the connection (HTTP %d %s)", e.Status, http.StatusText(e.Status))
	}
	if e.RequestID != "" {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// UnreachableError means no HTTP answer came from the gateway: DNS, TCP, TLS
// or a proxy failed before the handshake.
type UnreachableError struct {
	// Endpoint is the WebSocket URL that was dialled (it holds no secret).
	Endpoint string
	// Err is the underlying network error.
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the gateway at %s: %v", e.Host(), e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Host is the gateway's host and port, or the endpoint as given when it
// does not parse.
func (e *UnreachableError) Host() string {
	if u, err := url.Parse(e.Endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return e.Endpoint
}

// clientPrefix starts the FATAL message that a local client receives when
// the tunnel cannot open its WebSocket: libpq and pgx pass it on in their
// own errors, which is how [RefusalIn] finds it again.
const clientPrefix = "ppg tunnel: "

var (
	refusedStatus = regexp.MustCompile(`^the (?:gateway|API key)[^(]*\(HTTP (\d{3})`)
	requestID     = regexp.MustCompile(`\(request id ([^)\s]+)\)`)
	unreachable   = regexp.MustCompile(`^cannot reach the gateway at (\S+): (.*)$`)
)

// Refusal returns the *HandshakeError or *UnreachableError in err's chain,
// or nil. A refusal that reached a Postgres client through a tunnel is
// text by then: see [RefusalIn].
func Refusal(err error) error {
	var he *HandshakeError
	var ue *UnreachableError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &ue):
		return ue
	}
	return nil
}

// RefusalIn reads the refusal that the tunnel sent a Postgres client out of
// text, one of that client's messages ("pg_dump: error: connection to
// server … failed: FATAL:  ppg tunnel: the gateway refused the connection
// (HTTP 503 Service Unavailable) (request id …)"). It returns a
// *HandshakeError, an *UnreachableError, or nil when text holds none.
func RefusalIn(text string) error {
	i := strings.Index(text, clientPrefix)
	if i < 0 {
		return nil
	}
	msg := text[i+len(clientPrefix):]
	// Whatever the client added after the message: its SQLSTATE, a newline.
	if j := strings.IndexAny(msg, "\r\n"); j >= 0 {
		msg = msg[:j]
	}
	msg = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(msg), " (SQLSTATE 08001)"))
	if m := refusedStatus.FindStringSubmatch(msg); m != nil {
		status, _ := strconv.Atoi(m[1])
		he := &HandshakeError{Status: status}
		if id := requestID.FindStringSubmatch(msg); id != nil {
			he.RequestID = id[1]
		}
		return he
	}
	if m := unreachable.FindStringSubmatch(msg); m != nil {
		return &UnreachableError{Endpoint: m[1], Err: errors.New(m[2])}
	}
	return nil
}

// clientMessage is the text of the FATAL error a local client receives
// when the tunnel cannot reach the database for it.
func clientMessage(err error) string { return clientPrefix + err.Error() }
