package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Codes in the first packet a Postgres client sends, in place of the
// protocol version. See
// https://www.postgresql.org/docs/current/protocol-message-formats.html
const (
	protocolVersion30 = 3 << 16 // 196608
	cancelRequestCode = 80877102
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
)

// maxStartupPacketLen is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
const maxStartupPacketLen = 10000

// startupPacket is the first packet of a client connection: a
// StartupMessage, CancelRequest, SSLRequest or GSSENCRequest.
type startupPacket struct {
	// Code is the protocol version of a StartupMessage, or the request code.
	Code uint32
	// Params are a StartupMessage's parameters in the order sent.
	Params []param
	// Raw is the whole packet, length word included.
	Raw []byte
}

// param is one name/value pair of a StartupMessage.
type param struct {
	Name, Value string
}

// readStartupPacket reads one startup-phase packet from r, which may
// deliver it in pieces of any size.
func readStartupPacket(r io.Reader) (*startupPacket, error) {
	var head [8]byte
	if _, err := io.ReadFull(r, head[:4]); err != nil {
		return nil, fmt.Errorf("read startup packet length: %w", err)
	}
	n := binary.BigEndian.Uint32(head[:4])
	if n < 8 || n > maxStartupPacketLen {
		return nil, fmt.Errorf("invalid startup packet length %d", n)
	}
	raw := make([]byte, n)
	copy(raw, head[:4])
	if _, err := io.ReadFull(r, raw[4:]); err != nil {
		return nil, fmt.Errorf("read startup packet: %w", err)
	}
	return parseStartupPacket(raw)
}

// parseStartupPacket parses a whole startup-phase packet (length word
// included). Parameters are parsed only for protocol version 3 messages.
func parseStartupPacket(raw []byte) (*startupPacket, error) {
	if len(raw) < 8 || int(binary.BigEndian.Uint32(raw)) != len(raw) {
		return nil, errors.New("malformed startup packet length")
	}
	p := &startupPacket{Code: binary.BigEndian.Uint32(raw[4:8]), Raw: raw}
	switch p.Code {
	case cancelRequestCode:
		// 16 bytes in protocol 3.0; protocol 3.2 allows longer secret keys.
		if len(raw) < 16 {
			return nil, fmt.Errorf("cancel request of %d bytes, want at least 16", len(raw))
		}
		return p, nil
	case sslRequestCode, gssEncRequestCode:
		if len(raw) != 8 {
			return nil, fmt.Errorf("encryption request of %d bytes, want 8", len(raw))
		}
		return p, nil
	}
	if p.Code>>16 != 3 {
		return p, nil // the caller rejects the protocol version
	}
	params, err := parseParams(raw[8:])
	if err != nil {
		return nil, err
	}
	p.Params = params
	return p, nil
}

// parseParams parses a StartupMessage's body after the protocol version:
// NUL-terminated name/value strings ended by an empty name.
func parseParams(b []byte) ([]param, error) {
	var params []param
	for {
		name, rest, ok := bytes.Cut(b, []byte{0})
		if !ok {
			return nil, errors.New("startup message parameters not terminated")
		}
		if len(name) == 0 {
			if len(rest) != 0 {
				return nil, fmt.Errorf("%d bytes after the end of the startup message parameters", len(rest))
			}
			return params, nil
		}
		value, rest, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			return nil, fmt.Errorf("startup parameter %q has no terminated value", name)
		}
		params = append(params, param{Name: string(name), Value: string(value)})
		b = rest
	}
}

// Param returns the value of the parameter called name, if sent.
func (p *startupPacket) Param(name string) (string, bool) {
	for _, kv := range p.Params {
		if kv.Name == name {
			return kv.Value, true
		}
	}
	return "", false
}
