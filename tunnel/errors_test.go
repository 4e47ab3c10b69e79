package tunnel

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRefusalReadsBackWhatTheClientSaw(t *testing.T) {
	refused := &HandshakeError{Status: 503, RequestID: "req-42"}
	fatal := clientMessage(refused)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"the typed error", fmt.Errorf("dial: %w", refused), refused},
		{"pgx's connection error", errors.New("failed to connect to `user=postgres database=app`: /tmp/s/.s.PGSQL.5432 (/tmp/s): server error: FATAL: " + fatal + " (SQLSTATE 08001)"), refused},
		{"a pg_dump line", errors.New(`pg_dump: error: connection to server on socket "/tmp/s/.s.PGSQL.5432" failed: FATAL:  ` + fatal + "\n"), refused},
		{"a 401", errors.New("FATAL:  " + clientMessage(&HandshakeError{Status: 401})), &HandshakeError{Status: 401}},
		{"a 410 with an id", errors.New("FATAL:  " + clientMessage(&HandshakeError{Status: 410, RequestID: "x"})), &HandshakeError{Status: 410, RequestID: "x"}},
		{"unreachable", errors.New("FATAL:  " + clientMessage(&UnreachableError{Endpoint: "wss://gw.example/websocket", Err: errors.New("connection refused")})),
			&UnreachableError{Endpoint: "gw.example", Err: errors.New("connection refused")}},
		{"another server error", errors.New("FATAL: password authentication failed for user \"x\""), nil},
		{"the tunnel's other words", errors.New("FATAL:  ppg tunnel: something else"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Refusal(c.err)
			if got == nil {
				got = RefusalIn(c.err.Error())
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Refusal = %v, want %v", got, c.want)
			}
			if c.want != nil && fmt.Sprintf("%T", got) != fmt.Sprintf("%T", c.want) {
				t.Errorf("Refusal is a %T, want a %T", got, c.want)
			}
		})
	}
	if Refusal(nil) != nil {
		t.Error("Refusal(nil) is not nil")
	}
}

func TestHandshakeErrorSaysWhatHappenedOnly(t *testing.T) {
	for _, status := range []int{401, 410, 502, 503} {
		msg := (&HandshakeError{Status: status, RequestID: "r"}).Error()
		for _, advice := range []string{"copy", "try again", "use the", "contact", "check"} {
			if strings.Contains(strings.ToLower(msg), advice) {
				t.Errorf("HTTP %d: %q gives advice (%q)", status, msg, advice)
			}
		}
	}
}
