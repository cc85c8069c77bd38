package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := mustLoad(t)
	checks := []struct {
		name      string
		got, want any
	}{
		{"URL", c.URL.String(), "http://localhost:3000"},
		{"BasePath", c.BasePath, "/api/auth"},
		{"Origin", c.Origin(), "http://localhost:3000"},
		{"Secure", c.Secure(), false},
		{"Flavor", c.Flavor, "v4"},
		{"Port", c.Port, 3000},
		{"DataDir", c.DataDir, "./data"},
		{"SessionStore", c.SessionStore, "bolt:./data/sessions.db"},
		{"MaxAge", c.MaxAge, 30 * 24 * time.Hour},
		{"UpdateAge", c.UpdateAge, 24 * time.Hour},
		{"RefreshMargin", c.RefreshMargin, 60 * time.Second},
		{"ProtectedPaths", c.ProtectedPaths, []string{"/protected*"}},
		{"LogLevel", c.LogLevel, "info"},
		{"DevIdP", c.DevIdP, true},
		{"Providers", len(c.Providers), 0},
		{"Secrets", len(c.Secrets), 0},
		{"GenerateSecret", c.GenerateSecret, true},
		{"Upstreams", len(c.Upstreams), 0},
		{"FederatedSignout", c.FederatedSignout == nil, true},
		{"CallbackURL", c.CallbackURL("cognito"), "http://localhost:3000/api/auth/callback/cognito"},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if !reflect.DeepEqual(ch.got, ch.want) {
				t.Errorf("got %v, want %v", ch.got, ch.want)
			}
		})
	}
	if c.Upstreams == nil {
		t.Error("Upstreams is nil, want an empty map")
	}
}

func TestURLAndBasePath(t *testing.T) {
	tests := []struct {
		name                   string
		env                    []string
		origin, base, callback string
		secure                 bool
	}{
		{"root", []string{"NEXTAUTH_URL=http://localhost:3000"}, "http://localhost:3000", "/api/auth", "http://localhost:3000/api/auth/callback/x", false},
		{"root slash", []string{"NEXTAUTH_URL=http://localhost:3000/"}, "http://localhost:3000", "/api/auth", "http://localhost:3000/api/auth/callback/x", false},
		{"custom path", []string{"NEXTAUTH_URL=https://x.io/auth"}, "https://x.io", "/auth", "https://x.io/auth/callback/x", true},
		{"explicit api path trailing slash", []string{"NEXTAUTH_URL=https://x.io/api/auth/"}, "https://x.io", "/api/auth", "https://x.io/api/auth/callback/x", true},
		{"AUTH_URL alias", []string{"AUTH_URL=https://y.io/a/b"}, "https://y.io", "/a/b", "https://y.io/a/b/callback/x", true},
		{"NEXTAUTH_URL wins", []string{"AUTH_URL=https://y.io", "NEXTAUTH_URL=https://z.io"}, "https://z.io", "/api/auth", "https://z.io/api/auth/callback/x", true},
		{"default port and case normalised", []string{"NEXTAUTH_URL=HTTPS://App.Example.COM:443"}, "https://app.example.com", "/api/auth", "https://app.example.com/api/auth/callback/x", true},
		{"PORT sets default URL", []string{"PORT=8080"}, "http://localhost:8080", "/api/auth", "http://localhost:8080/api/auth/callback/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A provider is configured: the dev IdP refuses public https URLs.
			env := append([]string{"NEXTAUTH_SECRET=" + secret32, "AUTH_OKTA_ISSUER=https://dev.okta.com", "AUTH_OKTA_ID=abc"}, tt.env...)
			c := mustLoad(t, env...)
			if got := c.Origin(); got != tt.origin {
				t.Errorf("Origin() = %q, want %q", got, tt.origin)
			}
			if c.BasePath != tt.base {
				t.Errorf("BasePath = %q, want %q", c.BasePath, tt.base)
			}
			if got := c.CallbackURL("x"); got != tt.callback {
				t.Errorf("CallbackURL = %q, want %q", got, tt.callback)
			}
			if c.Secure() != tt.secure {
				t.Errorf("Secure() = %v, want %v", c.Secure(), tt.secure)
			}
		})
	}
}

func TestDevIdPRefusedBehindPublicHTTPS(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		dev     bool
		refused string // variable of the refusal problem, "" if none
	}{
		{"public https, no provider", []string{"NEXTAUTH_URL=https://app.example.com"}, true, "NEXTAUTH_URL"},
		{"public https via AUTH_URL", []string{"AUTH_URL=https://app.example.com"}, true, "AUTH_URL"},
		{"https localhost", []string{"NEXTAUTH_URL=https://localhost:3000"}, true, ""},
		{"https 127.0.0.2", []string{"NEXTAUTH_URL=https://127.0.0.2"}, true, ""},
		{"https ::1", []string{"NEXTAUTH_URL=https://[::1]:8443"}, true, ""},
		{"public http (LAN testing)", []string{"NEXTAUTH_URL=http://192.168.1.5:3000"}, true, ""},
		{"public https with provider", []string{"NEXTAUTH_URL=https://app.example.com", "NEXTAUTH_SECRET=" + secret32,
			"AUTH_OKTA_ISSUER=https://dev.okta.com", "AUTH_OKTA_ID=abc"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", tt.env...)
			if c.DevIdP != tt.dev {
				t.Errorf("DevIdP = %v, want %v", c.DevIdP, tt.dev)
			}
			if tt.refused == "" {
				if ps != nil {
					t.Fatalf("unexpected problems:\n%s", ps.Error())
				}
				return
			}
			wantProblem(t, ps, tt.refused, "development IdP is not for production")
		})
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		name          string
		env           []string
		max, update   time.Duration
		margin        time.Duration
		problemOn     string
		problemSubstr string
	}{
		{"seconds", []string{"AUTH_SESSION_MAX_AGE=3600", "AUTH_SESSION_UPDATE_AGE=60", "AUTH_REFRESH_MARGIN=30"},
			time.Hour, time.Minute, 30 * time.Second, "", ""},
		{"go syntax", []string{"AUTH_SESSION_MAX_AGE=720h", "AUTH_SESSION_UPDATE_AGE=1h30m", "AUTH_REFRESH_MARGIN=2m"},
			720 * time.Hour, 90 * time.Minute, 2 * time.Minute, "", ""},
		{"update age zero allowed", []string{"AUTH_SESSION_UPDATE_AGE=0"}, 30 * 24 * time.Hour, 0, time.Minute, "", ""},
		{"garbage", []string{"AUTH_SESSION_MAX_AGE=a month"}, 0, 0, 0, "AUTH_SESSION_MAX_AGE", "neither a number of seconds"},
		{"negative", []string{"AUTH_REFRESH_MARGIN=-5s"}, 0, 0, 0, "AUTH_REFRESH_MARGIN", "negative"},
		{"update longer than max", []string{"AUTH_SESSION_MAX_AGE=60", "AUTH_SESSION_UPDATE_AGE=2m"}, 0, 0, 0, "AUTH_SESSION_UPDATE_AGE", "longer than"},
		{"max zero", []string{"AUTH_SESSION_MAX_AGE=0", "AUTH_SESSION_UPDATE_AGE=0"}, 0, 0, 0, "AUTH_SESSION_MAX_AGE", "zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", tt.env...)
			if tt.problemOn != "" {
				wantProblem(t, ps, tt.problemOn, tt.problemSubstr)
				return
			}
			if ps != nil {
				t.Fatalf("unexpected problems:\n%s", ps.Error())
			}
			if c.MaxAge != tt.max || c.UpdateAge != tt.update || c.RefreshMargin != tt.margin {
				t.Errorf("got max %v update %v margin %v, want %v %v %v", c.MaxAge, c.UpdateAge, c.RefreshMargin, tt.max, tt.update, tt.margin)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	provider := []string{"AUTH_OKTA_ISSUER=https://dev.okta.com", "AUTH_OKTA_ID=abc"}
	with := func(extra ...string) []string { return append(extra, provider...) }
	other := strings.Repeat("z", 40)
	tests := []struct {
		name      string
		env       []string
		want      []string
		generate  bool
		problemOn string
		substr    string
	}{
		{"dev IdP may omit it", nil, nil, true, "", ""},
		{"dev IdP on a LAN http URL may omit it", []string{"NEXTAUTH_URL=http://192.168.1.5:3000"}, nil, true, "", ""},
		{"provider, URL unset: generated (NextAuth dev)", provider, nil, true, "", ""},
		{"provider, loopback URL: generated", with("NEXTAUTH_URL=http://127.0.0.1:4000"), nil, true, "", ""},
		{"provider, https localhost: generated", with("AUTH_URL=https://localhost:8443"), nil, true, "", ""},
		{"provider, NODE_ENV=development: generated", with("NODE_ENV=development"), nil, true, "", ""},
		{"provider, NODE_ENV=production", with("NODE_ENV=production"), nil, false, "NEXTAUTH_SECRET", "NODE_ENV is production"},
		{"provider, NODE_ENV=Production", with("NODE_ENV=Production"), nil, false, "NEXTAUTH_SECRET", "NODE_ENV is production"},
		{"provider, public URL", with("NEXTAUTH_URL=https://app.example.com"), nil, false, "NEXTAUTH_SECRET", "https://app.example.com is not a loopback URL"},
		{"provider, LAN http URL", with("NEXTAUTH_URL=http://192.168.1.5:3000"), nil, false, "NEXTAUTH_SECRET", "not a loopback URL"},
		{"provider, AUTH_URL public", with("AUTH_URL=https://app.example.com"), nil, false, "NEXTAUTH_SECRET", "AUTH_URL https://app.example.com"},
		{"provider, invalid URL", with("NEXTAUTH_URL=ftp://x"), nil, false, "NEXTAUTH_SECRET", "ftp://x is not a loopback URL"},
		{"previous without current", []string{"NEXTAUTH_SECRET_PREVIOUS=" + other}, nil, true, "NEXTAUTH_SECRET_PREVIOUS", "NEXTAUTH_SECRET is not"},
		{"NEXTAUTH_SECRET", with("NEXTAUTH_SECRET="+secret32, "NODE_ENV=production"), []string{secret32}, false, "", ""},
		{"AUTH_SECRET alias", with("AUTH_SECRET="+secret32, "NEXTAUTH_URL=https://app.example.com"), []string{secret32}, false, "", ""},
		{"rotation", []string{"NEXTAUTH_SECRET=" + secret32, "NEXTAUTH_SECRET_PREVIOUS=" + other + ", " + other + "x"},
			[]string{secret32, other, other + "x"}, false, "", ""},
		{"short", []string{"NEXTAUTH_SECRET=short"}, nil, false, "NEXTAUTH_SECRET", "5 bytes"},
		{"short previous", []string{"NEXTAUTH_SECRET=" + secret32, "NEXTAUTH_SECRET_PREVIOUS=tiny"}, nil, false, "NEXTAUTH_SECRET_PREVIOUS", "shorter than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", tt.env...)
			if c.GenerateSecret != tt.generate {
				t.Errorf("GenerateSecret = %v, want %v", c.GenerateSecret, tt.generate)
			}
			if tt.problemOn != "" {
				wantProblem(t, ps, tt.problemOn, tt.substr)
				return
			}
			if ps != nil {
				t.Fatalf("unexpected problems:\n%s", ps.Error())
			}
			var got []string
			for _, s := range c.Secrets {
				got = append(got, string(s))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Secrets = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTutorialDotenvLocal loads a directory holding only the 2021
// tutorial's .env.local: it must be a valid configuration as pasted.
func TestTutorialDotenvLocal(t *testing.T) {
	for _, domain := range []string{"myapp.auth.us-east-1.amazoncognito.com", "https://myapp.auth.us-east-1.amazoncognito.com"} {
		t.Run(domain, func(t *testing.T) {
			dir := t.TempDir()
			env := "COGNITO_CLIENT_ID=6h0v4u0q6v9example\nCOGNITO_CLIENT_SECRET=1abc+example/secret=\nCOGNITO_DOMAIN=" + domain + "\n"
			if err := os.WriteFile(filepath.Join(dir, ".env.local"), []byte(env), 0o600); err != nil {
				t.Fatal(err)
			}
			c, ps := load(t, dir)
			if ps != nil {
				t.Fatalf("the tutorial's .env.local is refused:\n%s", ps.Error())
			}
			if !c.GenerateSecret || len(c.Secrets) != 0 {
				t.Errorf("GenerateSecret %v with %d secrets, want a generated secret", c.GenerateSecret, len(c.Secrets))
			}
			want := Provider{ID: "cognito", Name: "Cognito", ClientID: "6h0v4u0q6v9example", ClientSecret: "1abc+example/secret=",
				Cognito: true, CognitoDomain: "https://myapp.auth.us-east-1.amazoncognito.com", LearnIssuer: true,
				Scopes: []string{"openid", "profile", "email"}, AuthStyle: AuthStylePost}
			if c.DevIdP || len(c.Providers) != 1 || !reflect.DeepEqual(c.Providers[0], want) {
				t.Errorf("DevIdP %v, providers %+v; want only %+v", c.DevIdP, c.Providers, want)
			}
		})
	}
	t.Run("NODE_ENV=production refuses the missing secret", func(t *testing.T) {
		dir := t.TempDir()
		env := "COGNITO_CLIENT_ID=cid\nCOGNITO_CLIENT_SECRET=cs\nCOGNITO_DOMAIN=myapp.auth.us-east-1.amazoncognito.com\n"
		if err := os.WriteFile(filepath.Join(dir, ".env.local"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		_, ps := load(t, dir, "NODE_ENV=production")
		wantProblem(t, ps, "NEXTAUTH_SECRET", "NODE_ENV is production")
		if len(ps) != 1 {
			t.Errorf("want only the secret problem, got:\n%s", ps.Error())
		}
	})
}

func TestSettings(t *testing.T) {
	spa := t.TempDir()
	file := filepath.Join(spa, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	storeFile := filepath.Join(t.TempDir(), "store-url")
	if err := os.WriteFile(storeFile, []byte("postgres://u:secret@db/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       []string
		check     func(*Config) bool
		problemOn string
	}{
		{"memory store", []string{"SESSION_STORE=memory"}, func(c *Config) bool { return c.SessionStore == "memory" }, ""},
		{"redis store", []string{"SESSION_STORE=rediss://u:p@cache:6380/2"}, func(c *Config) bool { return c.SessionStore == "rediss://u:p@cache:6380/2" }, ""},
		{"bolt follows data dir", []string{"AUTHBFF_DATA_DIR=/var/lib/authbff/"}, func(c *Config) bool { return c.SessionStore == "bolt:/var/lib/authbff/sessions.db" }, ""},
		{"unknown store", []string{"SESSION_STORE=mongodb://x"}, nil, "SESSION_STORE"},
		{"postgres store", []string{"SESSION_STORE=postgresql://u:p@db:5432/app?sslmode=require"}, func(c *Config) bool { return c.SessionStore == "postgresql://u:p@db:5432/app?sslmode=require" }, ""},
		{"store URL from a file", []string{"SESSION_STORE_FILE=" + storeFile}, func(c *Config) bool { return c.SessionStore == "postgres://u:secret@db/app" }, ""},
		{"store file and variable", []string{"SESSION_STORE_FILE=" + storeFile, "SESSION_STORE=memory"}, nil, "SESSION_STORE"},
		{"store file missing", []string{"SESSION_STORE_FILE=" + storeFile + ".nope"}, nil, "SESSION_STORE_FILE"},
		{"bolt without path", []string{"SESSION_STORE=bolt:"}, nil, "SESSION_STORE"},
		{"v5 flavor", []string{"AUTH_CLIENT_FLAVOR=V5"}, func(c *Config) bool { return c.Flavor == "v5" }, ""},
		{"unknown flavor", []string{"AUTH_CLIENT_FLAVOR=v3"}, nil, "AUTH_CLIENT_FLAVOR"},
		{"port 0", []string{"PORT=0"}, func(c *Config) bool { return c.Port == 0 }, ""},
		{"port too big", []string{"PORT=70000"}, nil, "PORT"},
		{"port not a number", []string{"PORT=http"}, nil, "PORT"},
		{"cors origins normalised", []string{"CORS_ORIGINS=https://A.example.com/, http://localhost:5173"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.CORSOrigins, []string{"https://a.example.com", "http://localhost:5173"})
			}, ""},
		{"cors star", []string{"CORS_ORIGINS=*"}, nil, "CORS_ORIGINS"},
		{"cors with path", []string{"CORS_ORIGINS=https://a.example.com/app"}, nil, "CORS_ORIGINS"},
		{"cors not a url", []string{"CORS_ORIGINS=a.example.com"}, nil, "CORS_ORIGINS"},
		{"protected paths", []string{"PROTECTED_PATHS=/admin*, /me"}, func(c *Config) bool { return reflect.DeepEqual(c.ProtectedPaths, []string{"/admin*", "/me"}) }, ""},
		{"protected path relative", []string{"PROTECTED_PATHS=admin"}, nil, "PROTECTED_PATHS"},
		{"spa dir", []string{"SPA_DIR=" + spa}, func(c *Config) bool { return c.SPADir == spa }, ""},
		{"spa dir missing", []string{"SPA_DIR=" + filepath.Join(spa, "nope")}, nil, "SPA_DIR"},
		{"spa dir is a file", []string{"SPA_DIR=" + file}, nil, "SPA_DIR"},
		{"upstreams", []string{"UPSTREAM_ORDERS=https://api.example.com/v1/", "UPSTREAM_LOCAL_API=http://127.0.0.1:9000"},
			func(c *Config) bool {
				return len(c.Upstreams) == 2 && c.Upstreams["orders"].String() == "https://api.example.com/v1" &&
					c.Upstreams["local_api"].String() == "http://127.0.0.1:9000"
			}, ""},
		{"upstream with query", []string{"UPSTREAM_X=https://api.example.com/?k=1"}, nil, "UPSTREAM_X"},
		{"upstream with userinfo", []string{"UPSTREAM_X=https://u:p@api.example.com"}, nil, "UPSTREAM_X"},
		{"upstream relative", []string{"UPSTREAM_X=/api"}, nil, "UPSTREAM_X"},
		{"booleans and lists", []string{"AUTH_REFRESH_ON_SESSION=1", "AUTH_FEDERATED_SIGNOUT=0", "AUTH_SESSION_GROUPS=true",
			"AUTH_ALLOWED_GROUPS=admins, staff", "AUTH_ALLOWED_EMAIL_DOMAINS=@Example.com,corp.io"},
			func(c *Config) bool {
				return c.RefreshOnSession && c.FederatedSignout != nil && !*c.FederatedSignout && c.SessionGroups &&
					reflect.DeepEqual(c.AllowedGroups, []string{"admins", "staff"}) &&
					reflect.DeepEqual(c.AllowedEmailDomains, []string{"example.com", "corp.io"})
			}, ""},
		{"bad boolean", []string{"AUTH_FEDERATED_SIGNOUT=maybe"}, nil, "AUTH_FEDERATED_SIGNOUT"},
		{"log level", []string{"LOG_LEVEL=DEBUG"}, func(c *Config) bool { return c.LogLevel == "debug" }, ""},
		{"bad log level", []string{"LOG_LEVEL=verbose"}, nil, "LOG_LEVEL"},
		{"trusted proxies", []string{"TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1,::1"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.TrustedProxies, []string{"10.0.0.0/8", "127.0.0.1", "::1"})
			}, ""},
		{"bad trusted proxy", []string{"TRUSTED_PROXIES=proxy.local"}, nil, "TRUSTED_PROXIES"},
		{"server defaults", nil, func(c *Config) bool {
			return c.Server.MaxConnections == 4096 && c.Server.IdleTimeout == 30*time.Second
		}, ""},
		{"idle timeout", []string{"HTTP_IDLE_TIMEOUT=65s"}, func(c *Config) bool { return c.Server.IdleTimeout == 65*time.Second }, ""},
		{"idle timeout zero", []string{"HTTP_IDLE_TIMEOUT=0"}, nil, "HTTP_IDLE_TIMEOUT"},
		{"url with query", []string{"NEXTAUTH_URL=https://x.io/?a=1"}, nil, "NEXTAUTH_URL"},
		{"url with fragment", []string{"NEXTAUTH_URL=https://x.io/#a"}, nil, "NEXTAUTH_URL"},
		{"url not http", []string{"NEXTAUTH_URL=ftp://x.io"}, nil, "NEXTAUTH_URL"},
		{"url without scheme", []string{"NEXTAUTH_URL=localhost:3000"}, nil, "NEXTAUTH_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := load(t, "", tt.env...)
			if tt.problemOn != "" {
				wantProblem(t, ps, tt.problemOn, "")
				return
			}
			if ps != nil {
				t.Fatalf("unexpected problems:\n%s", ps.Error())
			}
			if !tt.check(c) {
				t.Errorf("config does not hold the expected value: %+v", *c)
			}
		})
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	c, ps := load(t, "",
		"NEXTAUTH_URL=https://x.io/?q=1",
		"NEXTAUTH_SECRET=short",
		"PORT=99999",
		"SESSION_STORE=mongodb://db",
		"AUTH_SESSION_MAX_AGE=forever",
		"CORS_ORIGINS=*",
		"AUTH_CLIENT_FLAVOR=v9",
		"COGNITO_DOMAIN=myapp.auth.eu-west-1.amazoncognito.com",
		"COGNITO_REGION=eu-west-1",
		"COGNITO_CLIENT_ID=abc",
		"AUTH_OKTA_ISSUER=http://okta.example.com",
	)
	if c == nil {
		t.Fatal("no partial config")
	}
	want := []string{"NEXTAUTH_URL", "NEXTAUTH_SECRET", "PORT", "SESSION_STORE", "AUTH_SESSION_MAX_AGE",
		"CORS_ORIGINS", "AUTH_CLIENT_FLAVOR", "COGNITO_USER_POOL_ID", "AUTH_OKTA_ISSUER", "AUTH_OKTA_ID"}
	for _, v := range want {
		if _, ok := problemFor(ps, v); !ok {
			t.Errorf("no problem reported on %s", v)
		}
	}
	lines := strings.Split(ps.Error(), "\n")
	if len(lines) != len(ps) {
		t.Errorf("Error() has %d lines for %d problems", len(lines), len(ps))
	}
	for _, line := range lines {
		if !strings.Contains(line, ": ") || !strings.Contains(line, " - fix: ") {
			t.Errorf("line %q is not VAR: message - fix: fix", line)
		}
	}
}

func TestProblemString(t *testing.T) {
	ps := Problems{{Var: "NEXTAUTH_SECRET", Message: "is not set", Fix: "set it"}, {Var: "PORT", Message: "bad"}}
	want := "NEXTAUTH_SECRET: is not set - fix: set it\nPORT: bad"
	if got := ps.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSessionCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want time.Duration
		prob string
	}{
		{[]string{"SESSION_STORE=memory"}, time.Minute, ""},
		{[]string{"SESSION_STORE=redis://localhost:6379/0"}, time.Minute, ""},
		{[]string{"SESSION_STORE=redis://localhost:6379/0", "AUTH_SESSION_CACHE_TTL=0"}, 0, ""},
		{[]string{"SESSION_STORE=bolt:/tmp/x.db", "AUTH_SESSION_CACHE_TTL=5m"}, 5 * time.Minute, ""},
		{[]string{"SESSION_STORE=redis://localhost:6379/0", "AUTH_SESSION_CACHE_TTL=10m"}, 0, "AUTH_SESSION_CACHE_TTL"},
	} {
		t.Run(strings.Join(tc.env, " "), func(t *testing.T) {
			c, err := Load(Source{Environ: tc.env, Dir: t.TempDir()})
			if tc.prob != "" {
				if err == nil || !strings.Contains(err.Error(), tc.prob) {
					t.Fatalf("want a problem on %s, got %v", tc.prob, err)
				}
				return
			}
			if err != nil || c.SessionCacheTTL != tc.want {
				t.Fatalf("SessionCacheTTL = %v (%v), want %v", c.SessionCacheTTL, err, tc.want)
			}
		})
	}
}

func TestURLSet(t *testing.T) {
	c, err := Load(Source{Environ: []string{"NEXTAUTH_URL=http://localhost:4000"}, Dir: t.TempDir()})
	if err != nil || !c.URLSet || c.URL.Host != "localhost:4000" {
		t.Fatalf("NEXTAUTH_URL given: URLSet=%v %v", c.URLSet, err)
	}
	c, err = Load(Source{Environ: nil, Dir: t.TempDir()})
	if err != nil || c.URLSet || c.URL.String() != "http://localhost:3000" {
		t.Fatalf("default: URLSet=%v URL=%v %v", c.URLSet, c.URL, err)
	}
}
