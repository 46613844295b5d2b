package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// errorFormats returns the format of every ipdesk.Errorf,
// ipdesk.FieldErrorf and ipdesk.Warnf call in the module's code (tests left out), with the
// place of its first use; calls whose format is not a literal are listed
// in dynamic.
func errorFormats(t *testing.T) (formats map[string]string, dynamic []string) {
	t.Helper()
	formats = map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules", "dist", "artifacts":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.Ident: // inside package ipdesk
				if f.Name.Name == "ipdesk" {
					name = fn.Name
				}
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok && x.Name == "ipdesk" {
					name = fn.Sel.Name
				}
			}
			at := map[string]int{"Errorf": 1, "FieldErrorf": 2, "Warnf": 1}[name]
			if at == 0 || len(call.Args) <= at {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			if id, ok := call.Args[at].(*ast.Ident); ok && id.Name == "format" && filepath.Base(p) == "error.go" {
				return true // Errorf passing its format on
			}
			lit, ok := call.Args[at].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				dynamic = append(dynamic, pos)
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Errorf("%s: %v", pos, err)
				return true
			}
			if _, seen := formats[s]; !seen {
				formats[s] = pos
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return formats, dynamic
}

// indexedVerb finds fmt verbs, with an explicit argument index or not.
var indexedVerb = regexp.MustCompile(`%(\[([0-9]+)\])?[-+# 0]*[0-9]*(\.[0-9]+)?([a-zA-Z%])`)

// verbsByArgument lists the verb letter given to each argument of a
// format, in the arguments' order.
func verbsByArgument(format string) []string {
	var out []string
	next := 1
	for _, m := range indexedVerb.FindAllStringSubmatch(format, -1) {
		if m[4] == "%" {
			continue
		}
		i := next
		if m[2] != "" {
			i, _ = strconv.Atoi(m[2])
		}
		for len(out) < i {
			out = append(out, "")
		}
		out[i-1] = m[4]
		next = i + 1
	}
	return out
}

// TestEveryErrorIsTranslated: every error message the server can give has
// a German and a Russian text, with a verb of the same kind for each
// argument; no catalogue keeps a message that the code no longer gives.
func TestEveryErrorIsTranslated(t *testing.T) {
	formats, dynamic := errorFormats(t)
	if len(formats) < 100 {
		t.Fatalf("found only %d error formats; is the walk of the code broken?", len(formats))
	}
	for _, pos := range dynamic {
		t.Errorf("%s: the error's format is not a string literal, so it cannot be translated", pos)
	}
	for _, lang := range Languages[1:] {
		c := For(lang)
		for f, pos := range formats {
			s, ok := c.errors[f]
			if !ok {
				t.Errorf("%s: %s: no translation of the error %q", lang, pos, f)
				continue
			}
			if want, got := verbsByArgument(f), verbsByArgument(s); !slices.Equal(want, got) {
				t.Errorf("%s: the error %q has the verbs %v by argument; the translation %q has %v", lang, f, want, s, got)
			}
		}
		for _, f := range c.ErrorFormats() {
			if _, ok := formats[f]; !ok {
				t.Errorf("%s: errors.json translates %q, which the code no longer gives", lang, f)
			}
		}
	}
	if n := len(For("en").errors); n != 0 {
		t.Errorf("the English catalogue has %d error texts; the code's formats are the English texts", n)
	}
}

func TestVerbsByArgument(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"%s is %d", []string{"s", "d"}},
		{"%[2]d ist %[1]s", []string{"s", "d"}},
		{"100%% of %q", []string{"q"}},
		{"none", nil},
	} {
		if got := verbsByArgument(c.in); !slices.Equal(got, c.want) {
			t.Errorf("verbsByArgument(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestErrorf(t *testing.T) {
	c := &Catalog{Lang: "xx", errors: map[string]string{"%s is %d": "%[2]d ist %[1]s"}}
	if got := c.Errorf("%s is %d", "a", 3); got != "3 ist a" {
		t.Errorf("translated: %q", got)
	}
	if got := c.Errorf("no %s", "x"); got != "no x" {
		t.Errorf("untranslated: %q", got)
	}
}
