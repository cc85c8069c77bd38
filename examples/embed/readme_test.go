package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeLibraryProgramBuilds: the README's "Use it as a library"
// program is a complete program that builds against this checkout (issue
// 20). The snippet is laid over a package path that does not exist on disk
// (go build -overlay), so nothing is written into the source tree. Skipped
// by -short, like the other tests that build a program.
func TestReadmeLibraryProgramBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program (seconds); run without -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "## Use it as a library")
	a := strings.Index(s[max(i, 0):], "```go\n")
	if i < 0 || a < 0 {
		t.Fatal("README has no Go program under \"## Use it as a library\"")
	}
	code := s[i+a+len("```go\n"):]
	code = code[:strings.Index(code, "```")]
	if !strings.Contains(code, "package main") || !strings.Contains(code, "func main()") {
		t.Fatalf("the README's library snippet is not a complete program:\n%s", code)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, "internal", "readmeprogram")
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(pkg, "main.go"): src}})
	overlay := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlay, ov, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", filepath.Join(tmp, "prog"), "./internal/readmeprogram")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's library program does not build: %v\n%s", err, out)
	}
}
