// Command funlen lists the production functions (not in _test.go files,
// not under testdata) longer than a number of lines, longest first, and
// exits 1 if there is any. A function's length runs from its func keyword
// to its closing brace, both included.
//
// Usage: funlen [-over N] [-top N] DIR...
package main

import (
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type fn struct {
	pos   string
	name  string
	lines int
}

func main() {
	over := flag.Int("over", 80, "report functions longer than this many lines")
	top := flag.Int("top", 0, "only list the N longest functions, whatever their length, and exit 0")
	flag.Parse()
	var all []fn
	for _, dir := range flag.Args() {
		fns, err := walk(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "funlen:", err)
			os.Exit(2)
		}
		all = append(all, fns...)
	}
	slices.SortStableFunc(all, func(a, b fn) int { return cmp.Compare(b.lines, a.lines) })
	if *top > 0 {
		for _, f := range all[:min(*top, len(all))] {
			fmt.Printf("%d %s %s\n", f.lines, f.name, f.pos)
		}
		return
	}
	status := 0
	for _, f := range all {
		if f.lines > *over {
			fmt.Printf("%s: %s is %d lines (more than %d)\n", f.pos, f.name, f.lines, *over)
			status = 1
		}
	}
	os.Exit(status)
}

// walk measures every function declared in the Go files under dir,
// skipping tests, testdata and hidden folders. Positions are relative to
// dir.
func walk(dir string) ([]fn, error) {
	var fns []fn
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range file.Decls {
			if d, ok := decl.(*ast.FuncDecl); ok && d.Body != nil {
				start, end := fset.Position(d.Pos()), fset.Position(d.End())
				rel, err := filepath.Rel(dir, start.Filename)
				if err != nil {
					rel = start.Filename
				}
				fns = append(fns, fn{
					pos:   fmt.Sprintf("%s:%d", rel, start.Line),
					name:  funcName(d),
					lines: end.Line - start.Line + 1,
				})
			}
		}
		return nil
	})
	return fns, err
}

// funcName is Name or (Recv).Name.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch r := t.(type) {
	case *ast.IndexExpr:
		t = r.X
	case *ast.IndexListExpr:
		t = r.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + id.Name + ")." + d.Name.Name
	}
	return d.Name.Name
}
