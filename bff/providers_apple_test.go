package bff_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

const appleServicesID, appleTeam, appleKeyID = "com.example.web", "TEAM123456", "KEY1234567"

// appleKey makes a .p8 key file (PKCS #8 PEM, P-256) and returns its path
// and public half.
func appleKey(t *testing.T) (string, *ecdsa.PublicKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	path := filepath.Join(t.TempDir(), "AuthKey_"+appleKeyID+".p8")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, &k.PublicKey
}

// newAppleOP is an Apple-shaped OP: its token endpoint accepts only a
// client_secret that is an ES256 JWT verifying with the key's public half,
// iss the team id, sub the Services ID, aud the issuer, unexpired.
func newAppleOP(t *testing.T, pub *ecdsa.PublicKey) *provOP {
	op := newProvOP(t, nil)
	op.CheckClient = func(form url.Values) bool {
		return form.Get("client_id") == appleServicesID && appleSecretOK(form.Get("client_secret"), pub, op.Issuer()) == ""
	}
	op.setClaims(func(nonce string) map[string]any {
		return idClaims(op.Issuer(), "001234.abcd", appleServicesID, nonce, map[string]any{
			"email": "x7k2@privaterelay.appleid.com", "email_verified": "true", "is_private_email": "true"})
	})
	return op
}

// appleSecretOK says what is wrong with a client secret JWT, "" if nothing.
func appleSecretOK(secret string, pub *ecdsa.PublicKey, issuer string) string {
	payload, err := jws.Verify([]byte(secret), jws.WithKey(jwa.ES256, pub))
	if err != nil {
		return "signature: " + err.Error()
	}
	msg, _ := jws.Parse([]byte(secret))
	if kid := msg.Signatures()[0].ProtectedHeaders().KeyID(); kid != appleKeyID {
		return "kid " + kid
	}
	var c struct {
		Iss, Sub, Aud string
		Iat, Exp      int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return err.Error()
	}
	now := time.Now().Unix()
	switch {
	case c.Iss != appleTeam || c.Sub != appleServicesID || c.Aud != issuer:
		return "claims " + string(payload)
	case c.Iat > now+60 || c.Exp <= now || c.Exp-c.Iat > 180*24*3600:
		return "lifetime " + string(payload)
	}
	return ""
}

func appleEnv(op *provOP, keyFile string) map[string]string {
	return map[string]string{"AUTH_APPLE_ID": appleServicesID, "AUTH_APPLE_TEAM_ID": appleTeam, "AUTH_APPLE_KEY_ID": appleKeyID,
		"AUTH_APPLE_PRIVATE_KEY_FILE": keyFile, "AUTH_APPLE_ISSUER": op.Issuer()}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// applePost delivers Apple's form_post as a browser does from Apple's
// site: a POST without the SameSite=Lax cookies; it returns the answer.
func applePost(t *testing.T, app *provApp, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/callback/apple", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://appleid.apple.com")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, body := newProvBrowser(t).do(req) // a fresh jar: no cookie goes with it
	return resp, string(body)
}

// TestAppleFormPostCallback: Sign in with Apple with a .p8 key. The
// authorization URL asks for form_post and name email; Apple's cross-site
// POST (no Lax cookies) gets the same-origin page that posts the fields
// again; that POST, with the cookies, signs the person in with the name of
// the "user" field and the private relay e-mail; the token call's
// client_secret is an ES256 JWT that verifies with the key's public half.
func TestAppleFormPostCallback(t *testing.T) {
	keyFile, pub := appleKey(t)
	op := newAppleOP(t, pub)
	app := startProv(t, appleEnv(op, keyFile))
	b := newProvBrowser(t)
	authURL, _ := url.Parse(b.startSignIn(app, "apple", nil))
	if q := authURL.Query(); q.Get("response_mode") != "form_post" || q.Get("scope") != "name email" || q.Get("nonce") == "" {
		t.Fatalf("authorize query = %v", q)
	}
	resp, _ := b.get(authURL.String())
	back, _ := url.Parse(resp.Header.Get("Location"))
	form := url.Values{"code": {back.Query().Get("code")}, "state": {back.Query().Get("state")},
		"user": {`{"name":{"firstName":"Tim","lastName":"Apple"},"email":"x7k2@privaterelay.appleid.com"}`}}

	resp, page := applePost(t, app, form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self'") {
		t.Fatalf("cross-site form_post answered %d %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	again := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		again.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if again.Get("code") != form.Get("code") || again.Get("user") != form.Get("user") || !strings.Contains(page, `action="`+app.URL+`/api/auth/callback/apple"`) {
		t.Fatalf("re-post page does not carry the fields to the callback:\n%s", page)
	}

	req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/callback/apple", strings.NewReader(again.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	resp, _ = b.do(req)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != app.URL+"/account" {
		t.Fatalf("re-posted callback answered %d to %q", resp.StatusCode, loc)
	}
	if user := b.sessionUser(app); user["name"] != "Tim Apple" || user["email"] != "x7k2@privaterelay.appleid.com" {
		t.Fatalf("session user = %v", user)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.Tokens) != 1 {
		t.Fatalf("%d token calls", len(op.Tokens))
	}
	if why := appleSecretOK(op.Tokens[0].Get("client_secret"), pub, op.Issuer()); why != "" {
		t.Fatalf("client_secret: %s", why)
	}
}

// TestAppleFormPostNoFlowRefused: the re-post page does not weaken the
// state check: re-posted from a browser with no flow in progress (login
// CSRF), the callback is refused, and the page is never answered twice.
func TestAppleFormPostNoFlowRefused(t *testing.T) {
	keyFile, pub := appleKey(t)
	op := newAppleOP(t, pub)
	app := startProv(t, appleEnv(op, keyFile))
	attacker := newProvBrowser(t)
	resp, _ := attacker.get(attacker.startSignIn(app, "apple", nil))
	back, _ := url.Parse(resp.Header.Get("Location"))
	form := url.Values{"code": {back.Query().Get("code")}, "state": {back.Query().Get("state")}, "authbff_resubmit": {"1"}}

	resp, _ = applePost(t, app, form)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "error=OAuthCallback") {
		t.Fatalf("re-post without a flow answered %d to %q", resp.StatusCode, loc)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.Tokens) != 0 {
		t.Fatal("the token endpoint was called for a callback with no flow in this browser")
	}
}

// TestAppleConfiguration: no secret variable, and a key that is not a
// P-256 .p8 refuses to start naming the variable.
func TestAppleConfiguration(t *testing.T) {
	keyFile, pub := appleKey(t)
	op := newAppleOP(t, pub)
	env := appleEnv(op, keyFile)
	env["AUTH_APPLE_SECRET"] = "eyJ..."
	if _, err := provOptions(t, env, "http://127.0.0.1:3000"); err == nil || !strings.Contains(err.Error(), "AUTH_APPLE_SECRET") {
		t.Errorf("AUTH_APPLE_SECRET accepted: %v", err)
	}
	env = appleEnv(op, "")
	delete(env, "AUTH_APPLE_PRIVATE_KEY_FILE")
	env["AUTH_APPLE_PRIVATE_KEY"] = "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----"
	o, err := provOptions(t, env, "http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newBFF(o); err == nil || !strings.Contains(err.Error(), "Providers[0].ApplePrivateKey") {
		t.Errorf("a broken key was accepted: %v", err)
	}
}

// TestFormPostUnknownProviderNoPage: a POST callback for a provider that
// is not configured is refused at once, without the re-post page.
func TestFormPostUnknownProviderNoPage(t *testing.T) {
	keyFile, pub := appleKey(t)
	app := startProv(t, appleEnv(newAppleOP(t, pub), keyFile))
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/callback/nope", strings.NewReader("code=c&state=s"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := newProvBrowser(t).do(req)
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "error=OAuthCallback") {
		t.Fatalf("answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
