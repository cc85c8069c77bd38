package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		bad  []string // expected error prefixes, in order
	}{
		{"plain, export, comments, blanks",
			"# comment\n\nA=1\nexport B = two words \n  C=x # trailing comment\nD=a#b\nE=\n",
			map[string]string{"A": "1", "B": "two words", "C": "x", "D": "a#b", "E": ""}, nil},
		{"single quotes are literal",
			`A='x # not a comment \n $HOME'`, map[string]string{"A": `x # not a comment \n $HOME`}, nil},
		{"double quotes with escapes",
			`A="line1\nline2 \"q\" \\ \t" # c`, map[string]string{"A": "line1\nline2 \"q\" \\ \t"}, nil},
		{"multi-line double quotes (PEM)",
			"KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nB=2",
			map[string]string{"KEY": "-----BEGIN-----\nabc\n-----END-----", "B": "2"}, nil},
		{"backticks and CRLF", "A=`v`\r\nB=w\r\n", map[string]string{"A": "v", "B": "w"}, nil},
		{"later assignment wins in one file", "A=1\nA=2", map[string]string{"A": "2"}, nil},
		{"malformed lines",
			"GOOD=1\njust words\n1BAD=x\nQ=\"open\nR='x' junk",
			map[string]string{"GOOD": "1"},
			[]string{"line 2:", "line 3:", "line 4:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := parseDotenv(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("vars = %q, want %q", got, tt.want)
			}
			if len(bad) != len(tt.bad) {
				t.Fatalf("errors = %v, want %d starting %v", bad, len(tt.bad), tt.bad)
			}
			for i, e := range bad {
				if !strings.HasPrefix(e.Error(), tt.bad[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, e, tt.bad[i])
				}
			}
		})
	}
}

// writeFiles writes name -> content into a fresh temp dir and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDotenvPrecedence(t *testing.T) {
	files := map[string]string{
		".env":                  "LOG_LEVEL=error\nPORT=1001\nAUTH_CLIENT_FLAVOR=v5\nAUTHBFF_DATA_DIR=/from/env\nSESSION_STORE=memory\n",
		".env.local":            "PORT=1002\nAUTHBFF_DATA_DIR=/from/local\nLOG_LEVEL=warn\n",
		".env.test":             "PORT=1003\n",
		".env.test.local":       "PORT=1004\n",
		".env.production":       "PORT=1005\nLOG_LEVEL=debug\n",
		".env.production.local": "PORT=1006\n",
	}
	tests := []struct {
		name    string
		env     []string
		port    int
		dataDir string
		level   string
	}{
		{"no NODE_ENV: .env.local over .env", nil, 1002, "/from/local", "warn"},
		{"real environment wins", []string{"PORT=2000", "LOG_LEVEL=info"}, 2000, "/from/local", "info"},
		{"real environment wins even when empty", []string{"LOG_LEVEL="}, 1002, "/from/local", "info"},
		{"production order", []string{"NODE_ENV=production", "AUTHBFF_DEV_IDP=1"}, 1006, "/from/local", "warn"},
		{"test skips .env.local", []string{"NODE_ENV=test"}, 1004, "/from/env", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, writeFiles(t, files), tt.env...)
			if ps != nil {
				t.Fatalf("unexpected problems:\n%s", ps.Error())
			}
			if c.Port != tt.port || c.DataDir != tt.dataDir || c.LogLevel != tt.level {
				t.Errorf("port %d dataDir %q level %q, want %d %q %q", c.Port, c.DataDir, c.LogLevel, tt.port, tt.dataDir, tt.level)
			}
			if c.Flavor != "v5" || c.SessionStore != "memory" {
				t.Errorf("values only in .env were lost: flavor %q store %q", c.Flavor, c.SessionStore)
			}
		})
	}
}

func TestDotenvConfiguresProviders(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		".env.local": "AUTH_OKTA_ID=from-file\nUPSTREAM_API=https://api.example.com\n",
		".env":       "NEXTAUTH_SECRET=" + secret32 + "\n",
	})
	c, ps := load(t, dir, "AUTH_OKTA_ISSUER=https://dev.okta.com")
	if ps != nil {
		t.Fatalf("unexpected problems:\n%s", ps.Error())
	}
	if len(c.Providers) != 1 || c.Providers[0].ClientID != "from-file" || c.DevIdP {
		t.Errorf("providers %+v DevIdP %v: the dotenv client id was not combined with the real issuer", c.Providers, c.DevIdP)
	}
	if u := c.Upstreams["api"]; u == nil || u.String() != "https://api.example.com" {
		t.Errorf("upstream from dotenv = %v", u)
	}
}

func TestDotenvProblems(t *testing.T) {
	t.Run("malformed line names file and line", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{".env": "A=1\nnot a pair\n"})
		_, ps := load(t, dir, "PORT=abc")
		wantProblem(t, ps, filepath.Join(dir, ".env"), "line 2:")
		wantProblem(t, ps, "PORT", "not a port")
	})
	t.Run("unreadable file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, ".env.local"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, ps := load(t, dir)
		wantProblem(t, ps, filepath.Join(dir, ".env.local"), "cannot be read")
	})
	t.Run("NODE_ENV that is not a file name", func(t *testing.T) {
		_, ps := load(t, "", "NODE_ENV=../x")
		wantProblem(t, ps, "NODE_ENV", "cannot name a dotenv file")
	})
}

func TestGetenvWinsOverEnviron(t *testing.T) {
	src := Source{
		Getenv:  func(k string) (string, bool) { return map[string]string{"PORT": "4000"}[k], k == "PORT" },
		Environ: []string{"PORT=5000"},
		Dir:     t.TempDir(),
	}
	c, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4000 {
		t.Errorf("Port = %d, want the Getenv value 4000", c.Port)
	}
}
