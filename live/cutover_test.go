package live

import "testing"

func TestTextArray(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, `{}`},
		{[]string{"public.s"}, `{"public.s"}`},
		{[]string{`"My""Seq".x`, `a\b`, "1", "true"}, `{"\"My\"\"Seq\".x","a\\b","1","true"}`},
	} {
		if got := textArray(c.in); got != c.want {
			t.Errorf("textArray(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
