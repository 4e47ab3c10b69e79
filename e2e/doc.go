// Package e2e holds ppg's end-to-end tests, fault tests and benchmarks, run
// with real PostgreSQL servers, real client tools, the gateway emulator and
// the real ppg binary (go test -tags e2e ./e2e/...). Its sub-packages are the
// test bed: pgserver starts servers, gateway emulates Prisma's tunnel
// endpoint, sandbox combines them, and cmd/sandbox runs that for people.
// e2e/toolchain.sh installs the servers and tools they use.
//
// The tests of ppg migrate-from-ea share one harness: harness_test.go (a
// migration: a PostgreSQL 16 source and a 17 target behind one gateway, a
// key for each; runs of the binary in their own process group, waits for
// events, signals, exit status), events_test.go (the --json event format,
// declared once), database_test.go (direct checks of either side),
// folder_test.go (the state file and the working folder), proc_test.go
// (/proc) and schemas_test.go (the test databases). The tunnel tests use
// the smaller bed of helpers_test.go, and the wizard tests drive a real
// terminal (wizard_helpers_test.go) on the same migration.
package e2e
