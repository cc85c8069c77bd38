package oidc

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
)

// TestTutorialDotenvSignsIn: a directory holding only the 2021 tutorial's
// .env.local (client id, secret, and the hosted-UI domain of a Cognito-shaped
// IdP on loopback) configures a provider that signs a person in, learns the
// pool's issuer and pins it.
func TestTutorialDotenvSignsIn(t *testing.T) {
	const clientID, secret = "tutorialclient", "tut+orial/secret="
	srv := httptest.NewUnstartedServer(nil)
	domain := "http://" + srv.Listener.Addr().String()
	idp, err := devidp.New(devidp.Options{BaseURL: domain, Clients: []devidp.Client{{
		ID: clientID, Secret: secret, RedirectURIs: []string{"http://localhost:3000/api/auth/callback/cognito"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	srv.Start()
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	env := "COGNITO_CLIENT_ID=" + clientID + "\nCOGNITO_CLIENT_SECRET=" + secret + "\nCOGNITO_DOMAIN=" + domain + "\n"
	if err := os.WriteFile(filepath.Join(dir, ".env.local"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{Dir: dir})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	pc := cfg.Providers[0]
	if !pc.LearnIssuer || pc.Issuer != "" || !cfg.GenerateSecret {
		t.Fatalf("LearnIssuer %v, Issuer %q, GenerateSecret %v", pc.LearnIssuer, pc.Issuer, cfg.GenerateSecret)
	}

	pinPath := IssuerPinFile(t.TempDir(), pc.ID)
	var logs bytes.Buffer
	p, err := New(Config{
		ID: pc.ID, ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, RedirectURL: cfg.CallbackURL(pc.ID),
		Scopes: pc.Scopes, AuthStyle: AuthStylePost, Cognito: pc.Cognito, CognitoDomain: pc.CognitoDomain,
		LearnIssuer: pc.LearnIssuer, IssuerPin: NewFileIssuerPin(pinPath, pc.CognitoDomain),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)).With("provider", pc.ID),
	})
	if err != nil {
		t.Fatalf("oidc: %v", err)
	}

	ctx := context.Background()
	verifier, nonce := NewVerifier(), RandomString(16)
	authURL, err := p.AuthCodeURL(ctx, "state-1", nonce, verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("username", "ada")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(domain+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("login answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	res, err := p.Exchange(ctx, loc.Query().Get("code"), verifier, nonce)
	if err != nil {
		t.Fatalf("sign-in: %v\n%s", err, logs.String())
	}
	if res.Claims.Email != "ada@example.com" || res.Claims.Issuer != idp.Issuer() || p.Issuer() != idp.Issuer() {
		t.Errorf("email %q, iss %q, Issuer() %q; want ada and %q", res.Claims.Email, res.Claims.Issuer, p.Issuer(), idp.Issuer())
	}
	if got, _ := NewFileIssuerPin(pinPath, pc.CognitoDomain).Load(); got != idp.Issuer() {
		t.Errorf("pinned %q, want %q", got, idp.Issuer())
	}
	if !strings.Contains(logs.String(), "COGNITO_ISSUER="+idp.Issuer()) {
		t.Errorf("the log does not tell to set COGNITO_ISSUER:\n%s", logs.String())
	}
	// After pinning, refresh works as with a configured issuer.
	if _, err := p.Refresh(ctx, res.Tokens.RefreshToken, res.Claims); err != nil {
		t.Errorf("refresh after pinning: %v", err)
	}
}
