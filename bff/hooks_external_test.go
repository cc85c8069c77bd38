package bff_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestHooksOutsideTheModule runs the tests of examples/hooks, its own Go
// module (issue 23): a program that sets Options.OnSignIn (refusing
// grace@example.com), OnSession ("plan": "pro") and OnEvent, and signs
// grace and ada in through the development IdP. Run as bff/store's
// TestStoreWrittenOutsideTheModule runs examples/mapstore: the go.mod and
// go.sum copied to a temporary directory (this module's go.sum added) and
// used through -modfile, offline from the module cache.
func TestHooksOutsideTheModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs another module's tests (seconds); run without -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "examples", "hooks"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	read := func(f string) []byte {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	modfile := filepath.Join(tmp, "go.mod")
	if err := os.WriteFile(modfile, read(filepath.Join(dir, "go.mod")), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := append(read(filepath.Join(dir, "go.sum")), read(filepath.Join("..", "go.sum"))...)
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), sum, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "test", "-count=1", "-mod=mod", "-modfile="+modfile, "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in examples/hooks: %v\n%s", err, out)
	}
	t.Logf("examples/hooks:\n%s", out)
}
