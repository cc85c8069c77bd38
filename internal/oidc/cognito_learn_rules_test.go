package oidc

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLearnIssuerConfig(t *testing.T) {
	f := newCognitoFake(t, poolA)
	base := Config{ID: "cognito", ClientID: "c", RedirectURL: "http://localhost:3000/cb", Cognito: true,
		CognitoDomain: f.srv.URL, LearnIssuer: true}
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name   string
		mut    func(*Config)
		substr string // "" means New succeeds
	}{
		{"ok", func(*Config) {}, ""},
		{"not cognito", func(c *Config) { c.Cognito = false }, "hosted-UI domain"},
		{"no domain", func(c *Config) { c.CognitoDomain = "" }, "hosted-UI domain"},
		{"issuer set too", func(c *Config) { c.Issuer = f.pools[poolA].issuer }, "issuer is configured"},
		{"no issuer, not learning", func(c *Config) { c.LearnIssuer = false }, "issuer"},
		{"corrupt pin file", func(c *Config) { c.IssuerPin = NewFileIssuerPin(write("bad.json", "{"), f.srv.URL) }, "bad.json"},
		{"tampered pin file", func(c *Config) {
			c.IssuerPin = NewFileIssuerPin(write("evil.json", `{"issuer":"https://evil.example.com/eu-west-1_X","domain":"`+f.srv.URL+`"}`), f.srv.URL)
		}, "not a cognito user pool issuer"},
		{"pin of another domain is ignored", func(c *Config) {
			c.IssuerPin = NewFileIssuerPin(write("other.json", `{"issuer":"https://evil.example.com/eu-west-1_X","domain":"https://other.example.com"}`), f.srv.URL)
		}, ""},
		{"missing pin file", func(c *Config) { c.IssuerPin = NewFileIssuerPin(filepath.Join(dir, "none.json"), f.srv.URL) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mut(&cfg)
			p, err := New(cfg)
			if tt.substr == "" {
				if err != nil || p.Issuer() != "" {
					t.Fatalf("New = %v, issuer %q; want a pending provider", err, p.Issuer())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.substr) {
				t.Fatalf("New error = %v, want it to mention %q", err, tt.substr)
			}
		})
	}
}

func TestLearnerAccept(t *testing.T) {
	const aws = "https://cognito-idp.eu-west-1.amazonaws.com/"
	tests := []struct {
		domain, iss string
		ok          bool
	}{
		{"https://myapp.auth.eu-west-1.amazoncognito.com", aws + "eu-west-1_AbC123", true},
		{"https://myapp.auth-fips.us-east-1.amazoncognito.com", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123", true},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", aws + "us-east-1_AbC123", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", aws + "eu-west-1_AbC123/", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", aws + "eu-west-1_", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", aws + "eu-west-1_A-b", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", "https://cognito-idp.eu-west-1.amazonaws.com:443/eu-west-1_AbC123", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", "https://cognito-idp.eu-west-1.amazonaws.com.evil.io/eu-west-1_AbC123", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", "https://myapp.auth.eu-west-1.amazoncognito.com/eu-west-1_AbC123", false},
		{"https://myapp.auth.eu-west-1.amazoncognito.com", "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", false},
		// A custom domain names no region: any region, consistent with the pool id.
		{"https://auth.example.com", "https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_Xyz", true},
		{"https://auth.example.com", "https://cognito-idp.ap-south-1.amazonaws.com/eu-west-1_Xyz", false},
		{"https://auth.example.com", "https://auth.example.com/eu-west-1_Xyz", false},
		// Loopback domains (tests, local fakes) may also serve the issuer.
		{"http://127.0.0.1:9777", "http://127.0.0.1:9777/us-east-1_authbffdev", true},
		{"http://127.0.0.1:9777", "http://127.0.0.1:9778/us-east-1_authbffdev", false},
		{"http://127.0.0.1:9777", "https://127.0.0.1:9777/us-east-1_authbffdev", false},
		{"http://127.0.0.1:9777", "http://localhost:9777/us-east-1_authbffdev", false},
		{"http://127.0.0.1:9777", "http://127.0.0.1:9777/local_pool", false},
		{"http://127.0.0.1:9777", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", true},
	}
	for _, tt := range tests {
		t.Run(tt.domain+" "+tt.iss, func(t *testing.T) {
			l, err := newLearner(Config{Cognito: true}, tt.domain)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.accept(tt.iss); (err == nil) != tt.ok {
				t.Errorf("accept = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestFileIssuerPin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "pin.json")
	a := NewFileIssuerPin(path, "https://a.auth.eu-west-1.amazoncognito.com/")
	if iss, err := a.Load(); err != nil || iss != "" {
		t.Fatalf("Load of a missing file = %q, %v", iss, err)
	}
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
	if err := a.Save(iss); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Load(); err != nil || got != iss {
		t.Errorf("Load = %q, %v; want %q", got, err, iss)
	}
	b := NewFileIssuerPin(path, "https://b.auth.eu-west-1.amazoncognito.com")
	if got, err := b.Load(); err != nil || got != "" {
		t.Errorf("Load for another domain = %q, %v; want nothing pinned", got, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the pin (no temporary file left)", len(entries))
	}
	if a.String() != path {
		t.Errorf("String() = %q", a.String())
	}
}

// TestLogsNameTheProviderOnce: the caller's logger already names the
// provider; the oidc package must not add provider= a second time.
func TestLogsNameTheProviderOnce(t *testing.T) {
	op := newFakeOP(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil)).With("provider", "cognito")
	p := newProvider(t, op, func(c *Config) { c.Logger = log })
	op.mu.Lock()
	op.discFail = 1
	op.mu.Unlock()
	if err := p.Discover(context.Background()); err == nil {
		t.Fatal("discovery did not fail")
	}
	op.setToken(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
	})
	if _, err := p.Exchange(context.Background(), "c", NewVerifier(), testNonce); err == nil {
		t.Fatal("exchange did not fail")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("want a discovery and a token endpoint log line, got:\n%s", logs.String())
	}
	for _, line := range lines {
		if n := strings.Count(line, "provider=cognito"); n != 1 {
			t.Errorf("provider= appears %d times in %q", n, line)
		}
	}
}
