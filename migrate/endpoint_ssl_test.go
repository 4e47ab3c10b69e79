package migrate

import "testing"

func TestSSLFilesReachTheTools(t *testing.T) {
	for _, tt := range []struct {
		url             string
		root, cert, key string
	}{
		{"postgres://u@db.example.com/app?sslmode=verify-full&sslrootcert=/etc/ca.pem", "/etc/ca.pem", "", ""},
		{"postgres://u@db.example.com/app?sslmode=verify-full&sslrootcert=system&sslcert=/c.pem&sslkey=/k.pem", "system", "/c.pem", "/k.pem"},
		{"postgres://u@db.example.com/app?sslmode=require", "", "", ""},
	} {
		if root, cert, key := sslFiles(tt.url); root != tt.root || cert != tt.cert || key != tt.key {
			t.Errorf("%s: %q %q %q, want %q %q %q", tt.url, root, cert, key, tt.root, tt.cert, tt.key)
		}
	}
}
