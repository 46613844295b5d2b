package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRightsAndSharedActionsLayout keeps the package's layout honest:
// every rights helper (authorize and the may* checks) is in auth.go, and
// what the API and the pages share is in a file of neither side: no
// ui_*.go file uses what an api_*.go file declares, nor the reverse.
func TestRightsAndSharedActionsLayout(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	side := func(name string) string {
		switch {
		case strings.HasPrefix(name, "api_"):
			return "api"
		case strings.HasPrefix(name, "ui_"):
			return "ui"
		}
		return ""
	}
	fset := token.NewFileSet()
	parsed := map[string]*ast.File{}
	declared := map[string]string{} // package-level name → file
	methods := map[string]string{}  // method of *Server → file
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed[name] = f
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				n := d.Name.Name
				if n == "authorize" || strings.HasPrefix(n, "may") && len(n) > 3 && n[3] >= 'A' && n[3] <= 'Z' {
					if name != "auth.go" {
						t.Errorf("rights helper %s is in %s, not auth.go", n, name)
					}
				}
				if d.Recv == nil {
					declared[n] = name
				} else if isServer(d.Recv.List[0].Type) {
					methods[n] = name
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						declared[sp.Name.Name] = name
					case *ast.ValueSpec:
						for _, id := range sp.Names {
							declared[id.Name] = name
						}
					}
				}
			}
		}
	}
	for name, f := range parsed {
		mine := side(name)
		if mine == "" {
			continue
		}
		other := func(n string, where map[string]string) string {
			if d, ok := where[n]; ok && side(d) != "" && side(d) != mine {
				return d
			}
			return ""
		}
		keys := map[*ast.Ident]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok {
					keys[id] = true
				}
			case *ast.SelectorExpr:
				if d := other(n.Sel.Name, methods); d != "" {
					t.Errorf("%s uses %s of %s: move what both sides share to a file of neither", name, n.Sel.Name, d)
				}
				ast.Inspect(n.X, func(m ast.Node) bool {
					if id, ok := m.(*ast.Ident); ok && id.Obj == nil && !keys[id] {
						if d := other(id.Name, declared); d != "" {
							t.Errorf("%s uses %s of %s: move what both sides share to a file of neither", name, id.Name, d)
						}
					}
					return true
				})
				return false
			case *ast.Ident:
				if n.Obj == nil && !keys[n] {
					if d := other(n.Name, declared); d != "" {
						t.Errorf("%s uses %s of %s: move what both sides share to a file of neither", name, n.Name, d)
					}
				}
			}
			return true
		})
	}
}

// isServer tells whether a receiver type is *Server.
func isServer(e ast.Expr) bool {
	st, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := st.X.(*ast.Ident)
	return ok && id.Name == "Server"
}
