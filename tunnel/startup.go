package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Special startup codes from the PostgreSQL protocol
// (https://www.postgresql.org/docs/current/protocol-message-formats.html).
const (
	cancelRequestCode = 80877102
	sslRequestCode    = 80877103
	gssencRequestCode = 80877104

	// maxStartupLength mirrors the server's own limit (MAX_STARTUP_PACKET_LENGTH).
	maxStartupLength = 10000
	// maxNegotiations bounds SSL/GSS requests before a real startup packet;
	// libpq sends at most one of each.
	maxNegotiations = 4
)

// errDirectTLS is returned when a client starts TLS without asking first
// (PostgreSQL 17's sslnegotiation=direct) to a tunnel whose local TLS is off.
var errDirectTLS = errors.New("the client started TLS directly (sslnegotiation=direct), but this tunnel's local TLS is off; " +
	"the tunnel already encrypts the connection to the gateway: use sslmode=disable or prefer with sslnegotiation=postgres")

// upgradeFunc starts TLS on a client's connection, the server side: prefix
// holds bytes of the client's first TLS record already read (direct TLS),
// or nothing after an SSLRequest answered 'S'. It returns the connection to
// read the startup packet from.
type upgradeFunc func(prefix []byte) (io.ReadWriter, error)

// negotiate reads packets from a new local client until the first one that is
// neither SSLRequest nor GSSENCRequest, and returns that packet (a startup
// message or a cancel request), complete with its length word, to be
// forwarded unchanged, together with the connection it came on.
//
// GSSENCRequest is always answered 'N'. With upgrade nil, SSLRequest is too,
// so the client carries on in plain text: TLS is on the WebSocket, and
// answering locally is what lets libpq's default sslmode=prefer work. With
// upgrade set, SSLRequest is answered 'S' and the client's TLS handshake is
// served (so sslmode=require works too), as is a client that starts TLS
// directly; the startup packet is then read inside TLS.
func negotiate(rw io.ReadWriter, upgrade upgradeFunc) (io.ReadWriter, []byte, error) {
	secured := false
	for range maxNegotiations {
		var head [8]byte
		if _, err := io.ReadFull(rw, head[:4]); err != nil {
			return nil, nil, fmt.Errorf("read startup packet: %w", err)
		}
		if head[0] == 0x16 { // a TLS handshake record, not a length
			if upgrade == nil || secured {
				return nil, nil, errDirectTLS
			}
			conn, err := upgrade(head[:4])
			if err != nil {
				return nil, nil, err
			}
			rw, secured = conn, true
			continue
		}
		n := int(binary.BigEndian.Uint32(head[:4]))
		if n < 8 || n > maxStartupLength {
			return nil, nil, fmt.Errorf("invalid startup packet length %d: is the client speaking the PostgreSQL protocol?", n)
		}
		packet := make([]byte, n)
		copy(packet, head[:4])
		if _, err := io.ReadFull(rw, packet[4:]); err != nil {
			return nil, nil, fmt.Errorf("read startup packet: %w", err)
		}
		code := binary.BigEndian.Uint32(packet[4:8])
		if n == 8 && code == sslRequestCode && upgrade != nil {
			if secured {
				return nil, nil, errors.New("the client asked for TLS inside TLS")
			}
			// The request was read to its exact end, so no byte the client
			// sent in plain text can be taken for part of the TLS session.
			if _, err := rw.Write([]byte{'S'}); err != nil {
				return nil, nil, fmt.Errorf("answer SSL request: %w", err)
			}
			conn, err := upgrade(nil)
			if err != nil {
				return nil, nil, err
			}
			rw, secured = conn, true
			continue
		}
		if n == 8 && (code == sslRequestCode || code == gssencRequestCode) {
			if _, err := rw.Write([]byte{'N'}); err != nil {
				return nil, nil, fmt.Errorf("answer encryption request: %w", err)
			}
			continue
		}
		return rw, packet, nil
	}
	return nil, nil, errors.New("too many encryption requests before the startup packet")
}

// isCancelRequest reports whether a startup packet is a CancelRequest, which
// carries no reply and must not be answered with an error message.
func isCancelRequest(packet []byte) bool {
	return len(packet) == 16 && binary.BigEndian.Uint32(packet[4:8]) == cancelRequestCode
}

// fatalMessage encodes a PostgreSQL ErrorResponse with severity FATAL, so that
// a client such as psql shows why the tunnel could not connect it.
func fatalMessage(code, message, hint string) []byte {
	e := &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: message, Hint: hint}
	b, err := e.Encode(nil)
	if err != nil { // only for oversized messages, which these are not
		return nil
	}
	return b
}
