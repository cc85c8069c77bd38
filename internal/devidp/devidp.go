// Package devidp is an embedded development identity provider shaped like an
// AWS Cognito user pool and its hosted UI: the same paths, discovery document,
// token claims, error codes and quirks (exact redirect and sign-out URLs,
// single-use codes burnt by any failed exchange, userInfo's string
// email_verified, /logout instead of RP-initiated logout), so an app that
// works against it works against a real user pool. It is for development and
// tests only: users sign in by clicking a button, without a password.
package devidp

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// User is a demo user of the pool. Username identifies it; Sub is the stable
// subject (derived from Username when empty). Empty optional fields are left
// out of the tokens.
type User struct {
	Username, Sub, Email, Name, GivenName, FamilyName, Picture string
	Groups                                                     []string
}

// Client is an app client of the pool.
type Client struct {
	// ID is the client id; Secret is its secret. An empty Secret makes a public
	// client: the token endpoint then takes only client_id and answers
	// invalid_client when a secret is sent anyway.
	ID, Secret string
	// RedirectURIs are the "Allowed callback URLs", compared as exact strings.
	RedirectURIs []string
	// LogoutURLs are the "Allowed sign-out URLs", compared as exact strings.
	LogoutURLs []string
	// DisableCodeGrant makes the token endpoint answer unauthorized_client to
	// the authorization_code grant, like a client without "Authorization code
	// grant" ticked.
	DisableCodeGrant bool
	// RotateRefreshTokens makes the refresh grant return a new refresh token
	// and kill the old one at once (Cognito allows a grace period; we do not).
	RotateRefreshTokens bool
}

// Options configures New. Zero values take the documented defaults.
type Options struct {
	// BaseURL is the externally visible URL of the handler's root, e.g.
	// "http://localhost:3000/_devidp" (a trailing slash is trimmed). The
	// handler is mounted at BaseURL's path WITHOUT stripping it and matches
	// the paths below that prefix itself. Required.
	BaseURL string
	// Region defaults to "us-east-1".
	Region string
	// PoolID defaults to Region+"_authbffdev".
	PoolID string
	// Clients are the app clients; at least one is required.
	Clients []Client
	// Users default to DemoUsers().
	Users []User
	// AccessTTL and IDTTL are the token lifetimes, 1 hour each by default.
	AccessTTL, IDTTL time.Duration
	// RefreshTTL is the refresh token lifetime, 30 days by default.
	RefreshTTL time.Duration
	// Now is the clock, time.Now by default.
	Now func() time.Time
	// Logger receives request-level events (never tokens); nil discards.
	Logger *slog.Logger
	// StateFile, when set, keeps the signing keys and the live refresh tokens
	// in this file (0600) across restarts, so sessions made before a restart
	// can still refresh and their access tokens still verify. "" keeps
	// everything in memory.
	StateFile string
}

// Stats counts what the IdP did, for tests.
type Stats struct {
	// Authorizes counts valid authorize requests (login page or silent SSO).
	Authorizes int
	// CodeGrants and RefreshGrants count successful token responses.
	CodeGrants, RefreshGrants int
	// TokenErrors counts error responses of the token endpoint.
	TokenErrors int
	// Revocations counts accepted /oauth2/revoke requests.
	Revocations int
	// Logouts counts successful /logout redirects.
	Logouts int
}

const (
	codeTTL       = 5 * time.Minute
	sessionTTL    = time.Hour
	sessionCookie = "devidp_session"
)

// route is a handler and the methods it accepts.
type route struct {
	methods []string
	h       http.HandlerFunc
}

// IdP is the development identity provider. It is an http.Handler and safe
// for concurrent use. Create it with New.
type IdP struct {
	base     *url.URL // BaseURL parsed
	baseURL  string   // BaseURL without trailing slash
	basePath string   // BaseURL's path without trailing slash ("" for root)
	poolID   string
	issuer   string
	clients  map[string]Client
	opts     Options
	now      func() time.Time
	log      *slog.Logger
	keys     *keyPair
	pages    *template.Template
	routes   map[string]route // path below BaseURL's path -> handler

	mu       sync.Mutex
	users    []User // in insertion order, for the login page
	codes    map[string]*authCode
	refresh  map[string]*refreshGrant
	sessions map[string]*idpSession
	revoked  map[string]bool // origin_jti of revoked refresh chains
	revList  []string
	stats    Stats
	closed   bool // Close was called: the state file is written no more
}

// authCode is an issued, not yet exchanged authorization code.
type authCode struct {
	clientID, redirectURI, challenge, nonce, scope, username string
	authTime, expires                                        time.Time
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	clientID, username, scope, originJTI string
	authTime, expires                    time.Time
}

// idpSession is a hosted-UI session behind the devidp_session cookie.
type idpSession struct {
	username          string
	authTime, expires time.Time
}

// DemoUsers returns the default users: ada (full profile, group "admins",
// a picture), grace (name and email) and alan (username and email only, no
// name claim, so clients must fall back to other claims).
func DemoUsers() []User {
	return []User{
		{
			Username: "ada", Sub: "0b1f6a2e-8c1d-4d8e-9a51-3c2f7e6d5a01", Email: "ada@example.com",
			Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace",
			Picture: "https://upload.wikimedia.org/wikipedia/commons/a/a4/Ada_Lovelace_portrait.jpg",
			Groups:  []string{"admins"},
		},
		{
			Username: "grace", Sub: "5c8e2d7a-41b3-4f0e-b6d2-9e7a1c3f8b02", Email: "grace@example.com",
			Name: "Grace Hopper", GivenName: "Grace", FamilyName: "Hopper",
		},
		{Username: "alan", Sub: "9d4a7c1e-2f6b-4e8a-8c3d-5b1e9f2a7c03", Email: "alan@example.com"},
	}
}

// New validates opts, applies defaults and generates the two RSA-2048 signing
// keys (one for ID tokens, one for access tokens, with different kids).
func New(opts Options) (*IdP, error) {
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("devidp new: BaseURL %q must be an absolute http(s) URL", opts.BaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("devidp new: BaseURL %q must not have a query or fragment", opts.BaseURL)
	}
	if len(opts.Clients) == 0 {
		return nil, errors.New("devidp new: at least one client is required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.PoolID == "" {
		opts.PoolID = opts.Region + "_authbffdev"
	}
	if strings.ContainsAny(opts.PoolID, "/?#") {
		return nil, fmt.Errorf("devidp new: PoolID %q must be a single path segment", opts.PoolID)
	}
	if opts.Users == nil {
		opts.Users = DemoUsers()
	}
	for _, d := range []*time.Duration{&opts.AccessTTL, &opts.IDTTL} {
		if *d <= 0 {
			*d = time.Hour
		}
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 30 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &IdP{
		base:     base,
		baseURL:  base.String(),
		basePath: strings.TrimRight(base.Path, "/"),
		poolID:   opts.PoolID,
		clients:  make(map[string]Client, len(opts.Clients)),
		opts:     opts,
		now:      opts.Now,
		log:      opts.Logger,
		codes:    map[string]*authCode{},
		refresh:  map[string]*refreshGrant{},
		sessions: map[string]*idpSession{},
		revoked:  map[string]bool{},
	}
	p.issuer = p.baseURL + "/" + p.poolID
	p.routes = map[string]route{
		"/" + p.poolID + "/.well-known/openid-configuration": {[]string{http.MethodGet}, p.discovery},
		"/" + p.poolID + "/.well-known/jwks.json":            {[]string{http.MethodGet}, p.jwks},
		"/oauth2/authorize":                                  {[]string{http.MethodGet}, p.authorize},
		"/login":                                             {[]string{http.MethodPost}, p.login},
		"/oauth2/token":                                      {[]string{http.MethodPost}, p.token},
		"/oauth2/userInfo":                                   {[]string{http.MethodGet, http.MethodPost}, p.userInfo},
		"/oauth2/revoke":                                     {[]string{http.MethodPost}, p.revoke},
		"/logout":                                            {[]string{http.MethodGet}, p.logout},
		"/demo-api/me":                                       {[]string{http.MethodGet}, p.demoAPI},
	}
	for _, c := range opts.Clients {
		if c.ID == "" {
			return nil, errors.New("devidp new: a client has an empty ID")
		}
		if _, dup := p.clients[c.ID]; dup {
			return nil, fmt.Errorf("devidp new: duplicate client ID %q", c.ID)
		}
		p.clients[c.ID] = c
	}
	for _, u := range opts.Users {
		if u.Username == "" {
			return nil, errors.New("devidp new: a user has an empty Username")
		}
		p.SetUser(u)
	}
	if p.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("devidp new: %w", err)
	}
	found := false
	if opts.StateFile != "" {
		if found, err = p.loadState(opts.StateFile); err != nil {
			return nil, fmt.Errorf("devidp new: %w", err)
		}
	}
	if !found {
		if p.keys, err = newKeyPair(); err != nil {
			return nil, fmt.Errorf("devidp new: %w", err)
		}
		if opts.StateFile != "" {
			if err := p.writeState(opts.StateFile); err != nil {
				return nil, fmt.Errorf("devidp new: save state: %w", err)
			}
		}
	}
	return p, nil
}

// Issuer returns BaseURL + "/" + PoolID, shaped like
// https://cognito-idp.<region>.amazonaws.com/<poolId>. Discovery's issuer and
// every token's iss equal it exactly.
func (p *IdP) Issuer() string { return p.issuer }

// Stats returns a snapshot of the counters.
func (p *IdP) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// RevokedRefreshTokens returns, in order, the raw tokens of every accepted
// /oauth2/revoke request (including tokens that were unknown), for tests.
func (p *IdP) RevokedRefreshTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.revList)
}

// SetUser adds u, or replaces the user with the same Username. An empty Sub
// is derived from the Username. Tokens refreshed afterwards carry the new
// attributes. A user with an empty Username is ignored.
func (p *IdP) SetUser(u User) {
	if u.Username == "" {
		return
	}
	if u.Sub == "" {
		u.Sub = derivedSub(u.Username)
	}
	u.Groups = slices.Clone(u.Groups)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.users {
		if p.users[i].Username == u.Username {
			p.users[i] = u
			return
		}
	}
	p.users = append(p.users, u)
}

// user returns the user named username. The caller must hold p.mu.
func (p *IdP) user(username string) (User, bool) {
	for _, u := range p.users {
		if u.Username == username {
			return u, true
		}
	}
	return User{}, false
}

// derivedSub makes a stable UUID-shaped subject from a username.
func derivedSub(username string) string {
	h := sha256.Sum256([]byte("devidp-sub:" + username))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// ServeHTTP routes a request whose path still carries BaseURL's path prefix.
// Unknown paths get 404; known paths with a wrong method get 405.
func (p *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, p.basePath)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		http.NotFound(w, r)
		return
	}
	rt, ok := p.routes[rest]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !slices.Contains(rt.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(rt.methods, ", "))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rt.h(w, r)
}

// LogoutToken returns an OpenID Connect back-channel logout token for
// client clientID naming user sub (and sid when not empty), signed with the
// ID token key, as an IdP posts it to the client's back-channel logout URI.
// The development IdP does not post it itself: tests and local tooling do.
func (p *IdP) LogoutToken(clientID, sub, sid string) (string, error) {
	claims := map[string]any{
		"iss": p.issuer, "aud": clientID, "iat": p.now().Unix(), "jti": randomToken(),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if sub != "" {
		claims["sub"] = sub
	}
	if sid != "" {
		claims["sid"] = sid
	}
	return sign(p.keys.id, claims)
}
