package tunnel

import "testing"

func TestDotenvKeyReadsAPastedFile(t *testing.T) {
	for _, c := range []struct {
		text, name, value string
		ok                bool
	}{
		{"DIRECT_URL=\"postgres://h/db\"\nDATABASE_URL=\"prisma+postgres://x/?api_key=k\"\n", "DATABASE_URL", "prisma+postgres://x/?api_key=k", true},
		{"# keys\r\nDATABASE_URL=a\r\nexport PDP_API_KEY='b' # the key\r\n", "PDP_API_KEY", "b", true},
		{"DIRECT_URL=postgres://h/db\nSHADOW_DATABASE_URL=postgres://h/s\n", "", "", false},
	} {
		name, value, ok := DotenvKey(ParseDotenv(c.text))
		if name != c.name || value != c.value || ok != c.ok {
			t.Errorf("DotenvKey(%q) = %q, %q, %v; want %q, %q, %v", c.text, name, value, ok, c.name, c.value, c.ok)
		}
	}
}
