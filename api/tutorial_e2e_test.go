package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/testkit"
)

// idpSwitch serves whichever Cognito-shaped IdP the test selects, on one
// origin; pinned, when set, keeps serving the pinned pool's discovery and
// JWKS (paths under /<its pool id>/) while cur answers the hosted UI and
// token endpoint, as one domain fronting two pools would.
type idpSwitch struct {
	mu     sync.Mutex
	cur    http.Handler
	pinned *devidp.IdP
	hits   map[string]int // path -> requests
}

func (s *idpSwitch) use(h http.Handler, pinned *devidp.IdP) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur, s.pinned = h, pinned
}

func (s *idpSwitch) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *idpSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.cur
	if s.pinned != nil && strings.HasPrefix(r.URL.Path, "/"+poolOf(s.pinned)+"/") {
		h = s.pinned
	}
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	if h == nil {
		http.Error(w, "no IdP yet", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// poolOf is the pool id of a dev IdP (the last segment of its issuer).
func poolOf(p *devidp.IdP) string { return p.Issuer()[strings.LastIndex(p.Issuer(), "/")+1:] }

const tutorialClientID, tutorialSecret = "tutorialclient1", "tut+orial/secret="

// tutorialFolder writes a folder holding only the tutorial's .env.local:
// COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET and COGNITO_DOMAIN.
func tutorialFolder(t *testing.T, domain string) string {
	t.Helper()
	dir := t.TempDir()
	env := "COGNITO_CLIENT_ID=" + tutorialClientID + "\nCOGNITO_CLIENT_SECRET=" + tutorialSecret + "\nCOGNITO_DOMAIN=" + domain + "\n"
	if err := os.WriteFile(filepath.Join(dir, ".env.local"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tutorialPool makes a Cognito-shaped dev IdP at the root of domain whose
// one client is the tutorial's, calling back to appURL. Pools made with the
// same keyFile sign with the same keys; "" generates new ones.
func tutorialPool(t *testing.T, domain, poolID, appURL, keyFile string) *devidp.IdP {
	t.Helper()
	idp, err := devidp.New(devidp.Options{BaseURL: domain, PoolID: poolID, StateFile: keyFile, Clients: []devidp.Client{{
		ID: tutorialClientID, Secret: tutorialSecret,
		RedirectURIs: []string{appURL + "/api/auth/callback/cognito"}, LogoutURLs: []string{appURL, appURL + "/"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

// TestTutorialFolderSignsIn (issue 13): a folder holding only the
// tutorial's .env.local (client id, secret, COGNITO_DOMAIN of a loopback
// Cognito-shaped IdP) runs authbff with nothing else set - no NEXTAUTH_URL,
// no NEXTAUTH_SECRET. A person signs in; the pool's issuer is learned,
// pinned in the data directory and logged with COGNITO_ISSUER=; the dev
// secret is generated (warned once); then ID tokens naming another pool
// (signed with the pinned pool's own keys), or naming the pool but signed
// with keys its JWKS does not publish, are refused, while the pool's own
// still sign in.
func TestTutorialFolderSignsIn(t *testing.T) {
	sw := &idpSwitch{hits: map[string]int{}}
	srv := httptest.NewServer(sw)
	t.Cleanup(srv.Close)
	domain := srv.URL // http://127.0.0.1:<port>
	dir := tutorialFolder(t, domain)
	data := t.TempDir()

	var logs lockedBuffer
	ln := listenLoopback(t)
	real := map[string]string{"PORT": "0", "AUTHBFF_DATA_DIR": data, "METRICS_ADDR": "127.0.0.1:0"}
	m, err := New(Options{Source: envSource(real, dir), Listener: ln, Logger: textLogger(t, &logs)})
	if err != nil {
		ln.Close()
		t.Fatalf("the tutorial folder does not start: %v", err)
	}
	app := runMain(t, m)
	if devIdP(m) != nil {
		t.Fatal("the embedded dev IdP is in use although .env.local configures Cognito")
	}
	keys := filepath.Join(t.TempDir(), "pool-keys.json")
	pool := tutorialPool(t, domain, "", app.URL, keys)
	if want := domain + "/us-east-1_authbffdev"; pool.Issuer() != want {
		t.Fatalf("test setup: issuer %q, want %q", pool.Issuer(), want)
	}
	sw.use(pool, nil)

	signIn := func(t *testing.T) (response, *browser) {
		t.Helper()
		b := newBrowser(t)
		authURL := b.StartSignIn(app.URL, "cognito", app.URL+"/protected")
		if !strings.HasPrefix(authURL, domain+"/oauth2/authorize?") {
			t.Fatalf("authorize URL %q is not on COGNITO_DOMAIN", authURL)
		}
		cb := b.DevLogin(b.Get(authURL), "ada")
		return b.Get(location(t, cb)), b
	}
	wantRefused := func(t *testing.T) {
		t.Helper()
		r, b := signIn(t)
		if loc := location(t, r); !strings.HasPrefix(loc, app.URL+"/api/auth/error?") || testkit.MustQuery(t, loc).Get("error") != "OAuthCallback" {
			t.Fatalf("callback ended at %s, want the OAuthCallback error", loc)
		}
		if c := cookieNamed(r.Cookies(), "next-auth.session-token"); c != nil && c.Value != "" {
			t.Fatal("a session cookie was set")
		}
		if s := b.Session(app.URL); s != nil {
			t.Fatalf("session %v", s)
		}
	}

	t.Run("first sign-in learns and pins the issuer", func(t *testing.T) {
		r, b := signIn(t)
		if loc := location(t, r); loc != app.URL+"/protected" {
			t.Fatalf("callback ended at %s", loc)
		}
		if name, email := b.SessionUser(app.URL); name != "Ada Lovelace" || email != "ada@example.com" {
			t.Fatalf("session.user = %q <%s>", name, email)
		}
		if sw.count("/us-east-1_authbffdev/.well-known/jwks.json") == 0 {
			t.Fatal("the ID token was accepted without fetching the pool's JWKS")
		}
		raw, err := os.ReadFile(filepath.Join(data, "cognito-issuer-cognito.json"))
		if err != nil {
			t.Fatalf("no pin file: %v", err)
		}
		var pin struct{ Issuer, Domain string }
		if err := json.Unmarshal(raw, &pin); err != nil || pin.Issuer != pool.Issuer() || pin.Domain != domain {
			t.Fatalf("pin file %s (%v), want issuer %s for domain %s", raw, err, pool.Issuer(), domain)
		}
		text := logs.String()
		if !strings.Contains(text, "learned") || !strings.Contains(text, "COGNITO_ISSUER="+pool.Issuer()) {
			t.Fatalf("the log does not say the issuer was learned, naming COGNITO_ISSUER=%s:\n%s", pool.Issuer(), text)
		}
		if n := strings.Count(text, "no secret is set (Options.Secrets, NEXTAUTH_SECRET)"); n != 1 {
			t.Fatalf("the generated-secret warning appears %d times, want once:\n%s", n, text)
		}
		if st, err := os.Stat(filepath.Join(data, "dev-secret")); err != nil || st.Size() == 0 {
			t.Fatalf("no generated dev secret in the data directory: %v", err)
		}
	})

	t.Run("another pool on the same domain is refused", func(t *testing.T) {
		// Signed with the pinned pool's own keys, which its JWKS still
		// serves: only the issuer differs.
		other := tutorialPool(t, domain, "us-east-1_otherpool", app.URL, keys)
		sw.use(other, pool)
		wantRefused(t)
		if other.Stats().CodeGrants != 1 {
			t.Fatalf("the other pool issued %d code grants, want 1 (the refusal must come from its token)", other.Stats().CodeGrants)
		}
	})

	t.Run("keys the pool does not publish are refused", func(t *testing.T) {
		impostor := tutorialPool(t, domain, "", app.URL, "") // same issuer, other keys
		sw.use(impostor, pool)
		wantRefused(t)
		if impostor.Stats().CodeGrants != 1 {
			t.Fatalf("the impostor issued %d code grants, want 1", impostor.Stats().CodeGrants)
		}
	})

	t.Run("the pinned pool still signs in", func(t *testing.T) {
		sw.use(pool, nil)
		r, _ := signIn(t)
		if loc := location(t, r); loc != app.URL+"/protected" {
			t.Fatalf("callback ended at %s", loc)
		}
		if raw, _ := os.ReadFile(filepath.Join(data, "cognito-issuer-cognito.json")); !strings.Contains(string(raw), pool.Issuer()) {
			t.Fatalf("the pin changed: %s", raw)
		}
	})
}

// TestTutorialFolderRefusedInProduction (issue 13): the same folder with
// NODE_ENV=production in the environment does not start, and says that
// NEXTAUTH_SECRET must be set.
func TestTutorialFolderRefusedInProduction(t *testing.T) {
	dir := tutorialFolder(t, "http://127.0.0.1:9") // never contacted
	data := t.TempDir()
	real := map[string]string{"PORT": "0", "AUTHBFF_DATA_DIR": data, "METRICS_ADDR": "127.0.0.1:0", "NODE_ENV": "production"}
	ln := listenLoopback(t)
	defer ln.Close()
	m, err := New(Options{Source: envSource(real, dir), Listener: ln})
	if err == nil {
		m.Close()
		t.Fatal("started in production without NEXTAUTH_SECRET")
	}
	if !strings.Contains(err.Error(), "NEXTAUTH_SECRET:") {
		t.Fatalf("the refusal does not name NEXTAUTH_SECRET:\n%v", err)
	}
	var probs *config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %T %v, want *config.Problems (every problem at once)", err, err)
	}
	if _, err := os.Stat(filepath.Join(data, "dev-secret")); err == nil {
		t.Fatal("a dev secret was generated in production")
	}
}
