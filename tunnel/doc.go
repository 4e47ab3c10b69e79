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
// A handshake the gateway refuses becomes a [*HandshakeError] that says what
// the gateway answered; the local client also receives it as a Postgres
// FATAL error, so psql shows it, and [RefusalIn] reads it back into the typed
// error from whatever a client made of it (pgx's error, pg_dump's last
// lines): the same refusal gets the same words on every path. What to do
// about it is package words' to say. [Check] opens one WebSocket to validate
// a key before work starts.
//
// [ParseKey] and [LoadKey] turn what users paste (a raw key, a
// prisma+postgres:// URL, a whole .env line) into a [Credential]; a direct
// postgres:// URL is recognised as needing no tunnel at all.
//
// # Two WebSocket libraries
//
// The tunnel dials with github.com/gorilla/websocket; the tests' fake
// gateway and the e2e gateway emulator serve with github.com/coder/websocket.
// The tunnel moved to gorilla for throughput: coder/websocket writes a
// client's masked message through a fixed 4 KiB buffer, so every 64 KiB
// chunk became many write calls, and that cost a third of the throughput on
// loopback; gorilla's Dialer takes buffers as large as a chunk (one frame,
// one system call), takes its proxy from the environment, and hands back
// the HTTP answer of a refused handshake (status and prisma-request-id).
// On the server side none of that matters, and coder/websocket's
// context-aware Accept and its net.Conn adapter keep the emulators short;
// being a different implementation from the client's, they also check that
// the tunnel speaks plain RFC 6455 rather than one library's dialect.
package tunnel
