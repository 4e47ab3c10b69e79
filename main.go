// Command ppg moves Prisma Postgres databases from Early Access to General
// Availability, imports any PostgreSQL database into Prisma Postgres, and
// runs the local tunnel that Early Access databases need. The commands live
// in package cli.
package main

import (
	"os"

	"github.com/ppg-cli/ppg/cli"
)

// Set at build time by scripts/dist.sh and make build (-ldflags "-X
// main.version=... -X main.commit=... -X main.date=...").
var version, commit, date string

func main() {
	os.Exit(cli.Main(cli.Build{Version: version, Commit: commit, Date: date}))
}
