package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionOptions are ppg version's dependencies: it has no flags.
type versionOptions struct {
	deps
}

// newVersionCmd is ppg version; runF, if set, runs instead.
func newVersionCmd(d deps, runF func(context.Context, *versionOptions) error) *cobra.Command {
	opts := &versionOptions{deps: d}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print ppg's version",
		Example: `  ppg version`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			_, _ = fmt.Fprintln(opts.io.out, opts.build.line())
			return nil
		},
	}
}

// line is what ppg version prints: the version, the commit and its date,
// and the Go release and platform of the build.
func (b Build) line() string {
	v, c, d := b.resolve()
	line := "ppg " + v
	if c != "" {
		line += " (commit " + c
		if d != "" {
			line += ", " + d
		}
		line += ")"
	}
	return fmt.Sprintf("%s %s %s/%s", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// userAgent is sent to the gateway: "ppg/1.2.0".
func (b Build) userAgent() string {
	v, _, _ := b.resolve()
	return "ppg/" + v
}

// resolve returns the stamped version, commit and date if set; otherwise
// the module version ("(devel)" becomes "dev") and the VCS revision and
// time Go recorded in the binary.
func (b Build) resolve() (ver, rev, when string) {
	ver, rev, when = b.Version, b.Commit, b.Date
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if ver == "" {
			ver = "unknown"
		}
		return ver, rev, when
	}
	if ver == "" {
		ver = "dev"
		if v := info.Main.Version; v != "" && v != "(devel)" {
			ver = v
		}
	}
	dirty := false
	vcsRev, vcsTime := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			vcsRev = s.Value
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" && vcsRev != "" {
		rev = vcsRev
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
	}
	if when == "" {
		when = vcsTime
	}
	return ver, rev, when
}
