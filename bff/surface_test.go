package bff_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// TestPublicSurface: package bff exports the library, not the binary's
// helpers nor internal types.
func TestPublicSurface(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	files := []*ast.File{}
	for _, f := range pkgs["bff"].Files {
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/authbff/authbff/bff")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range p.Funcs {
		names[f.Name] = true
	}
	for _, v := range append(p.Consts, p.Vars...) {
		for _, n := range v.Names {
			names[n] = true
		}
	}
	for _, ty := range p.Types {
		names[ty.Name] = true
		for _, f := range append(ty.Funcs, ty.Methods...) {
			names[f.Name] = true
		}
		for _, v := range append(ty.Consts, ty.Vars...) {
			for _, n := range v.Names {
				names[n] = true
			}
		}
		if ty.Name == "Options" {
			st := ty.Decl.Specs[0].(*ast.TypeSpec).Type.(*ast.StructType)
			for _, f := range st.Fields.List {
				for _, n := range f.Names {
					names["Options."+n.Name] = true
				}
			}
		}
	}
	for _, gone := range []string{"Internals", "DevIdP", "Logger", "RedactURL", "DevClientID", "NewLogger",
		"OptionsFromLookup", "ListenOptions", "Options.Extra", "Options.Listen", "Options.MetricsAddr", "Options.Port",
		"Options.NodeEnv", "Options.LogLevel", "Options.LogFormat", "Options.ServeSPA", "Options.SPADir"} {
		if names[gone] {
			t.Errorf("package bff exports %s", gone)
		}
	}
	for _, kept := range []string{"New", "OptionsFromEnv", "SessionFrom", "Handler", "Close", "User", "AccessToken",
		"LimitRequestRead", "HardenServer", "Options.URL", "Options.Secrets", "Options.Providers", "Options.AllowedGroups",
		"Options.Store", "Options.DevIdP", "Options.SPA", "Options.ErrorHandler", "Flavor", "AuthStyle",
		"RotateSecrets", "Secrets", "ProviderSecrets", "MaxPreviousSecrets"} {
		if !names[kept] {
			t.Errorf("package bff lacks %s", kept)
		}
	}
}
