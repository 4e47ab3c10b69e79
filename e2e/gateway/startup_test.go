package gateway

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// packet builds a startup-phase packet from its code and body.
func packet(code uint32, body ...string) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 4), code)
	for _, s := range body {
		b = append(b, s...)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func TestReadStartupPacket(t *testing.T) {
	tests := []struct {
		name       string
		in         []byte
		wantCode   uint32
		wantParams []param
		wantErr    string
	}{
		{
			name:     "startup message",
			in:       packet(protocolVersion30, "user\x00alice\x00database\x00postgres\x00application_name\x00psql\x00\x00"),
			wantCode: protocolVersion30,
			wantParams: []param{
				{"user", "alice"}, {"database", "postgres"}, {"application_name", "psql"},
			},
		},
		{
			name:       "empty value and options",
			in:         packet(protocolVersion30, "user\x00\x00options\x00-c search_path=x\x00\x00"),
			wantCode:   protocolVersion30,
			wantParams: []param{{"user", ""}, {"options", "-c search_path=x"}},
		},
		{name: "no parameters", in: packet(protocolVersion30, "\x00"), wantCode: protocolVersion30},
		{name: "protocol 3.2", in: packet(3<<16|2, "user\x00u\x00\x00"), wantCode: 3<<16 | 2, wantParams: []param{{"user", "u"}}},
		{name: "protocol 2.0 passes to the caller", in: packet(2 << 16), wantCode: 2 << 16},
		{name: "ssl request", in: packet(sslRequestCode), wantCode: sslRequestCode},
		{name: "gssenc request", in: packet(gssEncRequestCode), wantCode: gssEncRequestCode},
		{name: "cancel request", in: packet(cancelRequestCode, "\x00\x00\x30\x39", "abcd"), wantCode: cancelRequestCode},
		{name: "cancel request with a long key", in: packet(cancelRequestCode, "\x00\x00\x30\x39", strings.Repeat("k", 32)), wantCode: cancelRequestCode},
		{name: "short cancel request", in: packet(cancelRequestCode, "\x00\x00"), wantErr: "cancel request of 10 bytes"},
		{name: "long ssl request", in: packet(sslRequestCode, "x"), wantErr: "encryption request of 9 bytes"},
		{name: "length too small", in: []byte{0, 0, 0, 4, 0, 3, 0, 0}, wantErr: "invalid startup packet length 4"},
		{name: "length too large", in: []byte{0, 0, 0x27, 0x11}, wantErr: "invalid startup packet length 10001"},
		{name: "truncated", in: packet(protocolVersion30, "user\x00u\x00\x00")[:10], wantErr: "unexpected EOF"},
		{name: "empty stream", in: nil, wantErr: "EOF"},
		{name: "unterminated name", in: packet(protocolVersion30, "user"), wantErr: "not terminated"},
		{name: "unterminated value", in: packet(protocolVersion30, "user\x00u"), wantErr: "no terminated value"},
		{name: "missing final NUL", in: packet(protocolVersion30, "user\x00u\x00"), wantErr: "not terminated"},
		{name: "bytes after the end", in: packet(protocolVersion30, "user\x00u\x00\x00junk"), wantErr: "4 bytes after the end"},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			name := tt.name
			if split {
				name += "/one byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				r := bytes.NewReader(tt.in)
				var in io.Reader = r
				if split {
					in = iotest.OneByteReader(r)
				}
				p, err := readStartupPacket(in)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("readStartupPacket: %v", err)
				}
				if p.Code != tt.wantCode {
					t.Errorf("Code = %d, want %d", p.Code, tt.wantCode)
				}
				if len(p.Params) != len(tt.wantParams) {
					t.Fatalf("Params = %q, want %q", p.Params, tt.wantParams)
				}
				for i := range p.Params {
					if p.Params[i] != tt.wantParams[i] {
						t.Errorf("Params[%d] = %q, want %q", i, p.Params[i], tt.wantParams[i])
					}
				}
				if !bytes.Equal(p.Raw, tt.in) {
					t.Errorf("Raw = %q, want %q", p.Raw, tt.in)
				}
				if r.Len() != 0 {
					t.Errorf("%d bytes left unread", r.Len())
				}
			})
		}
	}
}

func TestReadStartupPacketLeavesTheRest(t *testing.T) {
	in := append(packet(sslRequestCode), packet(protocolVersion30, "user\x00u\x00\x00")...)
	in = append(in, 'Q')
	r := bytes.NewReader(in)
	p, err := readStartupPacket(r)
	if err != nil || p.Code != sslRequestCode {
		t.Fatalf("first packet: %v, %v", p, err)
	}
	p, err = readStartupPacket(r)
	if err != nil || p.Code != protocolVersion30 {
		t.Fatalf("second packet: %v, %v", p, err)
	}
	if v, ok := p.Param("user"); !ok || v != "u" {
		t.Errorf("Param(user) = %q, %v", v, ok)
	}
	if _, ok := p.Param("database"); ok {
		t.Errorf("Param(database) found")
	}
	if r.Len() != 1 {
		t.Errorf("%d bytes left, want 1", r.Len())
	}
}
