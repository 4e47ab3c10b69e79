package pgtools

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const streamScript = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n" +
	"SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\nSELECT pg_catalog.set_config('search_path', '', false);\n\n" +
	"--\n-- TOC entry 3349 (class 0 OID 16396)\n-- Dependencies: 218\n-- Data for Name: customers; Type: TABLE DATA; Schema: app; Owner: -\n-- Data Pos: 18057\n--\n\n" +
	"COPY app.customers (id, name) FROM stdin;\n"

const streamRows = "1\tAda\n2\t\\\\x89\n--\n-- TOC entry 9 (class 0 OID 1)\n3\t\\N\n"

// The rows go to load as they are, whatever they look like, in reads of
// any size, and the preamble with them.
func TestStreamCopy(t *testing.T) {
	for _, size := range []int{1, 3, 64 << 10} {
		in := streamScript + streamRows + "\\.\n\n\n-- Completed on 2026-12-08\n\n\\unrestrict abc\n"
		var got string
		var pre []string
		var stmt string
		err := StreamCopy(iotest.OneByteReader(strings.NewReader(in)), func(preamble []string, sql string, rows io.Reader) error {
			pre, stmt = preamble, sql
			buf := make([]byte, size)
			for {
				n, err := rows.Read(buf)
				got += string(buf[:n])
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
			}
		})
		if err != nil {
			t.Fatalf("reads of %d: %v", size, err)
		}
		if got != streamRows || stmt != "COPY app.customers (id, name) FROM stdin;" || len(pre) != 3 || pre[1] != "SET client_encoding = 'UTF8';" {
			t.Errorf("reads of %d: rows %q, statement %q, preamble %q", size, got, stmt, pre)
		}
	}
}

// What is not one entry holding a COPY is ErrScript, before load; rows
// that do not end are an error of the reads.
func TestStreamCopyRefuses(t *testing.T) {
	load := func([]string, string, io.Reader) error { t.Error("load called"); return nil }
	for name, in := range map[string]string{
		"no copy":     "SET a = 1;\n--\n-- TOC entry 5 (class 0 OID 1)\n-- Data for Name: t; Type: TABLE DATA; Schema: s; Owner: -\n--\n",
		"a statement": streamScript[:strings.Index(streamScript, "COPY")] + "SET default_tablespace = '';\n" + "COPY s.t (a) FROM stdin;\n1\n\\.\n",
		"two entries": "--\n-- TOC entry 5 (class 0 OID 1)\n--\n--\n-- TOC entry 6 (class 0 OID 1)\n--\nCOPY s.t (a) FROM stdin;\n\\.\n",
		"empty":       "",
	} {
		if err := StreamCopy(strings.NewReader(in), load); !errors.Is(err, ErrScript) {
			t.Errorf("%s: err = %v, want ErrScript", name, err)
		}
	}
	err := StreamCopy(strings.NewReader(streamScript+"1\tAda\n"), func(_ []string, _ string, rows io.Reader) error {
		_, err := io.ReadAll(rows)
		return err
	})
	if !errors.Is(err, ErrScript) {
		t.Errorf("rows without their end: err = %v, want ErrScript", err)
	}
}
