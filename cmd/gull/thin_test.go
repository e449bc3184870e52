package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxMethods is "a few": the command line's types hold its flags and
// streams, not the application (ARCHITECTURE.md).
const maxMethods = 6

// cmd/gull stays a command line (issue 14): commands are values in a
// table and plain functions, so no type grows a method per command, and
// every goroutine is started by the package that owns the work.
func TestCmdIsThin(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	methods := map[string][]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Recv != nil {
					typ := receiverType(n.Recv.List[0].Type)
					methods[typ] = append(methods[typ], n.Name.Name)
				}
			case *ast.GoStmt:
				t.Errorf("%s: cmd starts a goroutine; start it in the package that owns the work", fset.Position(n.Pos()))
			}
			return true
		})
	}
	if len(methods["app"]) == 0 {
		t.Fatalf("found no methods of app in %v; is the test in cmd/gull?", files)
	}
	for typ, names := range methods {
		if len(names) > maxMethods {
			t.Errorf("%s has %d methods, more than %d: %v; make commands plain functions and move the work to its package", typ, len(names), maxMethods, names)
		}
	}
}

// receiverType is the name of a receiver's type: app for (a *app).
func receiverType(e ast.Expr) string {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
