package migrate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestNoticeCodesListsEveryCode: every NoticeCode constant of the package
// is in NoticeCodes, which the front ends' tests walk to check that each
// has its words.
func TestNoticeCodesListsEveryCode(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	var declared []NoticeCode
	for _, name := range files {
		f, err := parser.ParseFile(fs, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			declared = append(declared, noticeConsts(d)...)
		}
	}
	if len(declared) < 20 {
		t.Fatalf("found %d notice codes in the sources, want them all", len(declared))
	}
	listed := NoticeCodes()
	for _, c := range declared {
		if !slices.Contains(listed, c) {
			t.Errorf("NoticeCodes lacks %q", c)
		}
	}
	if len(listed) != len(declared) {
		t.Errorf("NoticeCodes lists %d codes, the sources declare %d", len(listed), len(declared))
	}
}

// noticeConsts returns the values of the NoticeCode constants d declares.
func noticeConsts(d ast.Decl) []NoticeCode {
	gd, ok := d.(*ast.GenDecl)
	if !ok || gd.Tok != token.CONST {
		return nil
	}
	var out []NoticeCode
	for _, s := range gd.Specs {
		vs := s.(*ast.ValueSpec)
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "NoticeCode" {
			continue
		}
		for _, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, NoticeCode(s))
			}
		}
	}
	return out
}
