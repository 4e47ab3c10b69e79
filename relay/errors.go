package relay

import "errors"

// UpstreamError is a failure of the link between the relay and the server:
// the connection could not be opened, or broke while a client was using it.
// The client's connection is closed with it, so pg_dump fails promptly
// with "connection to server lost"; pg_dump cannot resume a connection, so
// the caller retries the whole dump.
type UpstreamError struct {
	// Op is what the relay was doing: "connect", "read" or "write".
	Op string
	// Err is the cause.
	Err error
}

func (e *UpstreamError) Error() string { return "server link: " + e.Op + ": " + e.Err.Error() }

func (e *UpstreamError) Unwrap() error { return e.Err }

// Retryable reports that running the dump again may succeed: the failure
// is the link's, not the database's.
func (e *UpstreamError) Retryable() bool { return true }

// ProtocolError is a message the relay could not parse, from the client or
// the server. The session ends with it.
type ProtocolError struct {
	// Side is "client" or "server".
	Side string
	// Err is pgproto3's error.
	Err error
}

func (e *ProtocolError) Error() string {
	return "protocol error from the " + e.Side + ": " + e.Err.Error()
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// ErrClosed is returned by a session cut short by Relay.Close.
var ErrClosed = errors.New("relay closed")
