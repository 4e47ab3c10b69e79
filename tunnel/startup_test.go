package tunnel

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type rw struct {
	io.Reader
	out bytes.Buffer
}

func (r *rw) Write(p []byte) (int, error) { return r.out.Write(p) }

func TestNegotiate(t *testing.T) {
	startup := startupPacket("user", "u", "database", "postgres")
	cancel := append(request(cancelRequestCode)[:0:0], 0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 0, 0, 0, 2)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		answers string
		wantErr string
	}{
		{name: "plain startup", in: startup, want: startup},
		{name: "ssl then startup", in: cat(request(sslRequestCode), startup), want: startup, answers: "N"},
		{name: "gss then ssl then startup", in: cat(request(gssencRequestCode), request(sslRequestCode), startup), want: startup, answers: "NN"},
		{name: "cancel request", in: cancel, want: cancel},
		{name: "direct TLS", in: []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, wantErr: "sslnegotiation=direct"},
		{name: "length too small", in: []byte{0, 0, 0, 4, 0, 0, 0, 0}, wantErr: "invalid startup packet length 4"},
		{name: "length too large", in: []byte{0, 1, 0, 0, 0, 0, 0, 0}, wantErr: "invalid startup packet length 65536"},
		{name: "truncated", in: startup[:10], wantErr: "unexpected EOF"},
		{name: "empty", in: nil, wantErr: "EOF"},
		{name: "endless requests", in: bytes.Repeat(request(sslRequestCode), 10), wantErr: "too many encryption requests", answers: "NNNN"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			r := io.Reader(bytes.NewReader(tt.in))
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			conn := &rw{Reader: r}
			_, got, err := negotiate(conn, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
				}
			} else if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("%s: negotiate() = %v, %v; want %v", tt.name, got, err, tt.want)
			}
			if conn.out.String() != tt.answers {
				t.Errorf("%s: answered %q, want %q", tt.name, conn.out.String(), tt.answers)
			}
		}
	}
	if !isCancelRequest(cancel) || isCancelRequest(startup) {
		t.Error("isCancelRequest misclassifies")
	}
	if errors.Is(errDirectTLS, io.EOF) {
		t.Error("direct TLS is not an EOF")
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add(startupPacket("user", "u"))
	f.Add(append(request(sslRequestCode), startupPacket("user", "u")...))
	f.Fuzz(func(t *testing.T, in []byte) {
		conn := &rw{Reader: bytes.NewReader(in)}
		_, got, err := negotiate(conn, nil)
		if err != nil {
			return
		}
		if len(got) < 8 || len(got) > maxStartupLength || !bytes.Contains(in, got) {
			t.Fatalf("negotiate returned %d bytes not taken from the input", len(got))
		}
		if strings.Trim(conn.out.String(), "N") != "" {
			t.Fatalf("answered %q", conn.out.String())
		}
	})
}
