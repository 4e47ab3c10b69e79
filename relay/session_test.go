package relay

import (
	"slices"
	"testing"
)

func TestWithoutChannelBinding(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{[]string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, []string{"SCRAM-SHA-256"}},
		{[]string{"SCRAM-SHA-256"}, []string{"SCRAM-SHA-256"}},
		{[]string{"SCRAM-SHA-256-PLUS"}, nil},
	} {
		if got := withoutChannelBinding(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}
