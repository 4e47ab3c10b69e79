// Package e2e holds ppg's end-to-end tests, fault tests and benchmarks, run
// with real PostgreSQL servers, real client tools, the gateway emulator and
// the real ppg binary (go test -tags e2e ./e2e/...). Its sub-packages are the
// test bed: pgserver starts servers, gateway emulates Prisma's tunnel
// endpoint, sandbox combines them, and cmd/sandbox runs that for people.
// e2e/toolchain.sh installs the servers and tools they use.
package e2e
