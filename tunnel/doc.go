// Package tunnel is ppg's local end of Prisma's authenticating proxy.
//
// Prisma Postgres databases of the Early Access era are reached through a
// gateway: every Postgres TCP connection becomes one WebSocket to the gateway,
// authenticated by the database's API key (a Bearer token that also selects the
// database). A [Tunnel] listens locally (TCP on loopback, or a Unix socket in a
// private directory), and for each accepted connection:
//
//  1. answers GSSENCRequest with 'N', and SSLRequest with 'S' followed by a
//     TLS handshake with an in-memory self-signed certificate (or with 'N'
//     under [Config.NoLocalTLS]): TLS to the gateway lives on the WebSocket,
//     and answering locally is what lets sslmode=prefer and require work;
//  2. reads the client's startup packet, then dials the gateway with the key;
//  3. copies bytes both ways: each chunk read from the client is one binary
//     message, each binary message received is written to the client. Reads
//     and writes alternate strictly, so a slow side slows the other instead of
//     growing memory.
//
// A handshake the gateway refuses becomes a [*HandshakeError] whose text says
// what to do; the local client also receives it as a Postgres error, so psql
// shows it. [Check] opens one WebSocket to validate a key before work starts.
//
// [ParseKey] and [LoadKey] turn what users paste (a raw key, a
// prisma+postgres:// URL, a whole .env line) into a [Credential]; a direct
// postgres:// URL is recognised as needing no tunnel at all.
package tunnel
