package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print ppg's version",
		Example: `  ppg version`,
		Args:    noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			_, _ = fmt.Fprintln(cmd.OutOrStdout(), a.build.line())
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
