package forms

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every message ID this package can return is in the Italian catalogue (the i18n tests then require it in every
// language). The IDs are read from the source — every string constant named Err… — so a new one cannot be missed.
func TestMessageIDsExist(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range spec.Names {
				if lit, ok := valueAt(spec, i).(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "Err") && lit.Kind == token.STRING {
					id, _ := strconv.Unquote(lit.Value)
					ids = append(ids, id)
				}
			}
			return true
		})
	}
	if len(ids) < 30 {
		t.Fatalf("found only %d message IDs in the source", len(ids))
	}

	var italian strings.Builder
	err = filepath.WalkDir("../i18n/locales", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "it.toml" {
			return err
		}
		data, err := os.ReadFile(p)
		italian.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "form.error.") {
			t.Errorf("%s: validation messages are form.error.<name>", id)
		}
		if !strings.Contains(italian.String(), "\n\""+id+"\" = ") {
			t.Errorf("%s is not in the Italian catalogue", id)
		}
	}
}

func valueAt(spec *ast.ValueSpec, i int) ast.Expr {
	if i < len(spec.Values) {
		return spec.Values[i]
	}
	return nil
}
