package words

import "fmt"

// Install says how to install pg_dump and pg_restore of major version
// major on goos (runtime.GOOS's values), and how to point ppg at tools it
// did not find.
func Install(goos string, major int) string {
	var how string
	switch goos {
	case "darwin":
		how = fmt.Sprintf("install them with Homebrew: brew install postgresql@%[1]d "+
			"(Homebrew does not put it on PATH: its tools are in /opt/homebrew/opt/postgresql@%[1]d/bin, "+
			"/usr/local/opt/postgresql@%[1]d/bin on Intel Macs), or install Postgres.app", major)
	case "linux":
		how = fmt.Sprintf("install them: on Debian or Ubuntu, sudo apt install postgresql-client-%[1]d "+
			"(from the PostgreSQL apt repository, https://wiki.postgresql.org/wiki/Apt); "+
			"on RHEL or Fedora, sudo dnf install postgresql%[1]d (from https://yum.postgresql.org)", major)
	case "windows":
		how = fmt.Sprintf(`install PostgreSQL %[1]d with the EDB installer (https://www.postgresql.org/download/windows/), `+
			`which puts them in C:\Program Files\PostgreSQL\%[1]d\bin`, major)
	default:
		how = fmt.Sprintf("install the PostgreSQL %d client tools (https://www.postgresql.org/download/)", major)
	}
	return how + "; or point ppg at them with --pg-bin DIR or PPG_PG_BIN"
}
