package tunnel

import (
	"fmt"
	"net/http"
	"net/url"
)

// HandshakeError is the gateway's refusal of a WebSocket handshake. Its text
// says what the status means for the user and what to do, and carries the
// request id that Prisma support asks for.
type HandshakeError struct {
	// Status is the HTTP status of the gateway's answer.
	Status int
	// RequestID is the gateway's prisma-request-id header, if it sent one.
	RequestID string
}

// Invalid reports whether the gateway rejected the key itself (HTTP 401).
func (e *HandshakeError) Invalid() bool { return e.Status == http.StatusUnauthorized }

// NoDatabase reports whether the key is valid but its environment has no
// Prisma Postgres database (HTTP 410).
func (e *HandshakeError) NoDatabase() bool { return e.Status == http.StatusGone }

func (e *HandshakeError) Error() string {
	var msg string
	switch e.Status {
	case http.StatusUnauthorized:
		msg = "the gateway rejected the API key (HTTP 401): it is invalid or was revoked; " +
			"copy the key again from the Prisma Console (or the DATABASE_URL of your .env)"
	case http.StatusGone:
		msg = "the API key belongs to an environment without a Prisma Postgres database (HTTP 410); " +
			"use the API key of the environment that holds the database"
	default:
		msg = fmt.Sprintf("the gateway refused the connection (HTTP %d %s); "+
			"try again in a moment, and contact Prisma support if it persists", e.Status, http.StatusText(e.Status))
	}
	if e.RequestID != "" {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// UnreachableError means no HTTP answer came from the gateway: DNS, TCP, TLS
// or a proxy failed before the handshake.
type UnreachableError struct {
	// Endpoint is the WebSocket URL that was dialled (it holds no secret).
	Endpoint string
	// Err is the underlying network error.
	Err error
}

func (e *UnreachableError) Error() string {
	host := e.Endpoint
	if u, err := url.Parse(e.Endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	return fmt.Sprintf("cannot reach the gateway at %s: %v; check the network connection (and PPG_WS_URL, if set)", host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }
