package store_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStoreWrittenOutsideTheModule runs the tests of examples/mapstore, its
// own Go module: a store implemented outside authbff with only the public
// bff/store package, which passes storetest.Run and signs Ada in through
// bff.Options.Store. They run against this checkout (the example replaces
// authbff with ../..).
//
// The example's go.mod and go.sum are copied to a temporary directory and
// used through -modfile with -mod=mod, the go.sum seeded with this module's:
// requirements authbff gains later are resolved from the module cache
// without touching the committed files or the network. Skipped by -short,
// like the other tests that build a program.
func TestStoreWrittenOutsideTheModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs another module's tests (seconds); run without -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "mapstore"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	modfile := filepath.Join(tmp, "go.mod")
	sum := concat(t, filepath.Join(dir, "go.sum"), filepath.Join("..", "..", "go.sum"))
	copyFile(t, filepath.Join(dir, "go.mod"), modfile)
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), sum, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(gobin, "test", "-count=1", "-mod=mod", "-modfile="+modfile, "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in examples/mapstore: %v\n%s", err, out)
	}
	t.Logf("examples/mapstore:\n%s", out)
}

// concat returns the contents of the files one after the other.
func concat(t *testing.T, files ...string) []byte {
	t.Helper()
	var b []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, data...)
	}
	return b
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.WriteFile(dst, concat(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
}
