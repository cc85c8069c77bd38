package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/redistest"
	"github.com/authbff/authbff/internal/testkit/fakeop"
)

const (
	scaleClientID = "authbff-scale"
	scaleSecret   = "scale-secret-0123456789abcdef"
	scaleSecretNA = "shared-secret-shared-secret-shared-0123"
	// scaleMargin is AUTH_REFRESH_MARGIN; sign-in tokens are handed out with
	// expires_in below it (so the first read after sign-in needs a refresh)
	// and refreshed ones with the dev IdP's 1h (so they do not).
	scaleMargin    = 5 * time.Minute
	signInLifetime = 60 // seconds
)

// scaleIdP is a dev IdP on its own loopback server, shared by several
// authbff instances like a real Cognito pool. A fakeop.Gate in front of it
// records every token it hands out, shortens sign-in tokens' expires_in,
// counts refresh attempts and can fail them like an outage.
type scaleIdP struct {
	*devidp.IdP
	gate *fakeop.Gate
}

func newScaleIdP(t *testing.T, publicURL string) *scaleIdP {
	t.Helper()
	g := fakeop.NewGate(t)
	g.SignInLifetime = signInLifetime
	idp, err := devidp.New(devidp.Options{
		BaseURL: g.Srv.URL,
		Clients: []devidp.Client{{
			ID: scaleClientID, Secret: scaleSecret,
			RedirectURIs: []string{publicURL + "/api/auth/callback/cognito"},
			LogoutURLs:   []string{publicURL, publicURL + "/"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g.Serve(idp)
	return &scaleIdP{IdP: idp, gate: g}
}

// revoke revokes a refresh token at the IdP, as an admin would.
func (f *scaleIdP) revoke(t *testing.T, refreshToken string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.gate.Srv.URL+"/oauth2/revoke",
		strings.NewReader(url.Values{"token": {refreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(scaleClientID, scaleSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
}

// loadBalancer is the public origin in front of the instances: it forwards
// to the backend named by the X-Backend header, else to the current default,
// keeping the Host header as a real load balancer does.
type loadBalancer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	backends map[string]*url.URL
	def      string
}

func newLoadBalancer(t *testing.T) *loadBalancer {
	t.Helper()
	lb := &loadBalancer{backends: map[string]*url.URL{}}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		lb.mu.Lock()
		name := pr.In.Header.Get("X-Backend")
		if name == "" {
			name = lb.def
		}
		target := lb.backends[name]
		lb.mu.Unlock()
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
	}}
	lb.srv = httptest.NewServer(proxy)
	t.Cleanup(lb.srv.Close)
	return lb
}

// use sends requests without X-Backend to backend name from now on.
func (lb *loadBalancer) use(name string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.def = name
}

func (lb *loadBalancer) add(name, rawURL string) {
	u, _ := url.Parse(rawURL)
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.backends[name] = u
	if lb.def == "" {
		lb.def = name
	}
}

// cluster is two authbff instances ("a", "b") sharing one real Redis and one
// IdP behind one public origin (URL).
type cluster struct {
	URL   string
	lb    *loadBalancer
	idp   *scaleIdP
	redis *redistest.Server
	apps  map[string]*testApp
}

type clusterOpts struct {
	persist bool              // Redis keeps its data across Stop/Restart
	env     map[string]string // extra environment for both instances
}

func newCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	c := &cluster{lb: newLoadBalancer(t), apps: map[string]*testApp{}}
	c.URL = c.lb.srv.URL
	c.redis = redistest.StartWithOptions(t, redistest.Options{Persist: o.persist})
	c.idp = newScaleIdP(t, c.URL)
	env := map[string]string{
		"COGNITO_CLIENT_ID":     scaleClientID,
		"COGNITO_CLIENT_SECRET": scaleSecret,
		"COGNITO_ISSUER":        c.idp.Issuer(),
		"NEXTAUTH_URL":          c.URL,
		"NEXTAUTH_SECRET":       scaleSecretNA,
		"SESSION_STORE":         c.redis.URL + "?dial_timeout=1s&max_retries=1",
		"AUTH_REFRESH_MARGIN":   scaleMargin.String(),
	}
	for k, v := range o.env {
		env[k] = v
	}
	for _, name := range []string{"a", "b"} {
		app := startApp(t, env)
		c.apps[name] = app
		c.lb.add(name, "http://"+app.ln.Addr().String())
	}
	return c
}

// signIn signs ada in through the dev IdP's hosted page: started on
// instance from, finished (callback) on instance to. It returns the session
// cookie value.
func (c *cluster) signIn(t *testing.T, b *browser, from, to string) string {
	t.Helper()
	c.lb.use(from)
	authURL := b.StartSignIn(c.URL, "cognito", c.URL+"/")
	cb := b.DevLogin(b.Get(authURL), "ada")
	c.lb.use(to)
	done := b.Get(location(t, cb))
	if loc := location(t, done); loc != c.URL+"/" {
		t.Fatalf("sign-in ended at %q", loc)
	}
	sc := cookieNamed(done.Cookies(), "next-auth.session-token")
	if sc == nil || sc.Value == "" {
		t.Fatal("no session cookie after sign-in")
	}
	return sc.Value
}

// redisDump returns every key and value in the cluster's Redis (SCAN, then
// the value of each key by type).
func (c *cluster) redisDump(t *testing.T) []string {
	t.Helper()
	opt, _ := redis.ParseURL(c.redis.URL)
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	iter := rc.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		out = append(out, k)
		switch typ := rc.Type(ctx, k).Val(); typ {
		case "string":
			out = append(out, rc.Get(ctx, k).Val())
		case "zset":
			out = append(out, rc.ZRange(ctx, k, 0, -1).Val()...)
		default:
			t.Fatalf("unexpected Redis type %s for %s", typ, k)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawSession sends GET (or, with csrf, POST) /api/auth/session to backend
// with the given cookies and returns status, headers and body.
func rawSession(client *http.Client, base, backend string, cookies []*http.Cookie, csrf string) (int, http.Header, string, error) {
	method, body := http.MethodGet, io.Reader(nil)
	if csrf != "" {
		method = http.MethodPost
		b, _ := json.Marshal(map[string]string{"csrfToken": csrf})
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+"/api/auth/session", body)
	if csrf != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Backend", backend)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}
