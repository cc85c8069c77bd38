// Package oidc is authbff's OpenID Connect relying-party client: discovery,
// the authorization URL (PKCE S256, nonce), the code exchange, ID token
// verification, refresh, revocation and logout URLs. Cognito's differences
// live in cognito.go and are switched on by Config.Cognito.
//
// The package keeps no tokens: callers store what Exchange and Refresh return.
// It never logs a token or a client secret; an IdP's error and
// error_description are logged.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Sentinel errors. Check them with errors.Is.
var (
	// ErrDiscovery wraps every failure to fetch or accept the discovery document.
	ErrDiscovery = errors.New("oidc: discovery failed")
	// ErrInvalidIDToken wraps every reason an ID token is refused.
	ErrInvalidIDToken = errors.New("oidc: invalid id token")
	// ErrNotSupported means the provider does not offer the endpoint asked for
	// (revocation, end-session): the caller should degrade, not fail.
	ErrNotSupported = errors.New("oidc: not supported by provider")
	// ErrInvalidResponse wraps a malformed response from the provider (token
	// response without id_token, wrong token_type, bad userinfo...).
	ErrInvalidResponse = errors.New("oidc: invalid provider response")
	// ErrInvalidAuthResponse wraps a malformed authorization response
	// (callback query): repeated parameters, missing code or state, iss mismatch.
	ErrInvalidAuthResponse = errors.New("oidc: invalid authorization response")
)

const (
	maxBodyBytes      = 1 << 20
	defaultTimeout    = 10 * time.Second
	maxClockSkew      = 60 * time.Second
	maxIDTokenAge     = 24 * time.Hour
	jwksRefetchPeriod = 10 * time.Second
)

// AuthStyle is how the client authenticates at the token and revocation
// endpoints. It is always explicit on the wire: x/oauth2's auto-detection
// (which retries with the other style and so burns a Cognito code) is never used.
type AuthStyle int

const (
	// AuthStyleDefault picks AuthStylePost when a secret is set, else AuthStyleNone.
	AuthStyleDefault AuthStyle = iota
	// AuthStyleBasic is client_secret_basic (HTTP Basic header).
	AuthStyleBasic
	// AuthStylePost is client_secret_post (client_id and client_secret in the form).
	AuthStylePost
	// AuthStyleNone is a public client: only client_id in the form.
	AuthStyleNone
	// AuthStylePrivateKeyJWT is private_key_jwt (RFC 7523): a client
	// assertion signed with Config.ClientKeys[0] (clientauth.go).
	AuthStylePrivateKeyJWT
	// AuthStyleSecretJWT is client_secret_jwt: a client assertion HMAC'd
	// with the client secret (HS256).
	AuthStyleSecretJWT
)

// String returns the OAuth 2.0 name of the style.
func (s AuthStyle) String() string {
	switch s {
	case AuthStyleBasic:
		return "client_secret_basic"
	case AuthStylePost:
		return "client_secret_post"
	case AuthStyleNone:
		return "none"
	case AuthStylePrivateKeyJWT:
		return "private_key_jwt"
	case AuthStyleSecretJWT:
		return "client_secret_jwt"
	default:
		return "default"
	}
}

// Config configures one provider. The zero value of every optional field is
// a safe default; New validates the rest.
type Config struct {
	// ID is the provider id used in URLs, e.g. "cognito". Required.
	ID string
	// Issuer is the exact issuer URL. It is compared byte for byte with the
	// discovery document's "issuer" and every ID token's "iss". Required
	// unless LearnIssuer; https, or http on a loopback host only.
	Issuer string
	// LearnIssuer (Cognito with CognitoDomain, Issuer empty) learns the user
	// pool's issuer from the first ID token the hosted UI's token endpoint
	// returns, accepting its iss only when it is exactly
	// https://cognito-idp.<region>.amazonaws.com/<region>_<id> (the domain's
	// region for <prefix>.auth.<region>.amazoncognito.com) or, for a
	// loopback domain, <CognitoDomain>/<region>_<id>, and only when the
	// token then verifies against that issuer's discovery and JWKS. The
	// issuer is then pinned (IssuerPin.Save, logged): from then on the
	// Provider behaves exactly as if Issuer had been configured, and a token
	// naming another issuer is refused. Until then the endpoints come from
	// CognitoDomain, Issuer() is "" and Discover has nothing to check.
	LearnIssuer bool
	// IssuerPin keeps the learned issuer across restarts (New loads it);
	// nil keeps it in memory only. Used only with LearnIssuer.
	IssuerPin IssuerPin
	// ClientID is the OAuth client id. Required.
	ClientID string
	// ClientSecret is the client secret; empty for a public client.
	ClientSecret string
	// RedirectURL is the exact callback URL registered at the provider. Required.
	RedirectURL string
	// Scopes default to openid, profile, email. "openid" is added if missing.
	Scopes []string
	// AuthStyle defaults to AuthStylePost with a secret, AuthStyleNone without.
	AuthStyle AuthStyle
	// Cognito switches on Cognito's rules: token_use must be "id", the
	// /logout URL form, the derived /oauth2/revoke endpoint.
	Cognito bool
	// CognitoDomain is the optional hosted-UI base URL
	// ("https://x.auth.us-east-1.amazoncognito.com"). When set, the
	// authorize, token, userInfo, revoke and logout endpoints are taken from
	// it instead of discovery; the JWKS still comes from discovery.
	CognitoDomain string
	// UserInfo makes Exchange also call the userinfo endpoint; its "sub"
	// must equal the ID token's.
	UserInfo bool
	// AllowedAlgs are the accepted ID token algorithms. Empty means: RS256
	// for Cognito, else the asymmetric algorithms (RS/PS/ES 256-512, EdDSA)
	// that discovery lists in id_token_signing_alg_values_supported, RS256
	// when it lists none of them. "none" and HS* are never accepted: New
	// refuses them here and discovery's are ignored.
	AllowedAlgs []string
	// LogoutIDTokenHint makes EndSessionURL put the ID token in the logout
	// URL as id_token_hint, for providers that need it (Okta, Ory Hydra with
	// a post-logout redirect): a trade-off, as that URL is browser-visible.
	// Off, client_id (and logout_hint) identify the client and user.
	// Cognito ignores it.
	LogoutIDTokenHint bool
	// OAuth2, when set, makes this a plain OAuth 2.0 provider (oauth2.go):
	// no discovery, no ID token, no nonce; Issuer must be empty and Scopes
	// are sent as given (no openid added). The user comes from its
	// userinfo URL through its profile map.
	OAuth2 *OAuth2
	// Google accepts ID tokens whose iss is the issuer without its scheme
	// ("accounts.google.com", which Google documents) besides the issuer.
	Google bool
	// HostedDomain, when set, requires the ID token's hd claim to equal it
	// (a Google Workspace domain); other accounts get ErrNotAllowed.
	HostedDomain string
	// Tenants are the Microsoft Entra ID tenant ids allowed to sign in
	// through a multi-tenant issuer (".../common/v2.0"), whose discovery
	// issuer is the template ".../{tenantid}/v2.0": an ID token's iss must
	// be the template with its own tid, and tid must be listed ("*" allows
	// every tenant), else ErrNotAllowed. Without Tenants such a discovery
	// document is refused (its issuer is not the configured one).
	Tenants []string
	// ClientKeys are the private_key_jwt signing keys: the first signs the
	// client assertions, every one is published (PublicJWKS), so a previous
	// key listed after the current one keeps verifying during a rotation.
	ClientKeys []ClientKey
	// PAR is when pushed authorization requests (RFC 9126) are used.
	PAR PARMode
	// AssertionAudienceToken makes the client assertions' aud the token
	// endpoint (Microsoft Entra ID wants it) instead of the issuer.
	AssertionAudienceToken bool
	// DPoP makes token requests under a context carrying a key
	// (WithDPoPKey) DPoP-bound (dpop.go).
	DPoP bool
	// Apple, when set, is Sign in with Apple (apple.go): the client secret
	// is an ES256 JWT minted from the key (ClientSecret stays empty; the
	// auth style is client_secret_post), the authorization request asks for
	// response_mode=form_post, and Scopes are sent as given (Apple's are
	// "name email", without openid).
	Apple *AppleKey
	// ClockSkew is the tolerance for exp/iat/nbf, default and maximum 60 s.
	ClockSkew time.Duration
	// HTTPClient is copied, never modified. Whatever is passed, redirects are
	// not followed and response bodies are capped at 1 MiB; a zero Timeout
	// becomes 10 s. Nil means a fresh client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives structured logs; nil discards them. It is used as
	// given: pass one that names the provider (log.With("provider", id)).
	Logger *slog.Logger
}

// Provider is a configured relying-party client for one OpenID provider.
// It is safe for concurrent use. Discovery and keys are fetched lazily.
type Provider struct {
	cfg       Config
	style     AuthStyle
	scopes    []string
	algs      []string
	skew      time.Duration
	client    *http.Client
	now       func() time.Time
	log       *slog.Logger
	keys      *keySet
	discMu    sync.Mutex
	meta      *metadata
	cognitoUI string   // hosted-UI base URL without trailing slash, "" when unknown
	learn     *learner // non-nil with Config.LearnIssuer

	warnedNoProfile, warnedNoRefresh atomic.Bool                 // noteSignIn's logged-once flags
	apple                            appleSecret                 // the minted client secret (Config.Apple)
	creds                            atomic.Pointer[credentials] // SetCredentials swaps it (rotate.go)
	dpopMu                           sync.Mutex
	dpopNonces                       map[string]string // the last DPoP-Nonce per server origin
}

// New validates cfg and returns a Provider. It makes no network call: a
// wrong issuer or unreachable provider shows up on the first use (call
// Discover at start-up to fail early).
func New(cfg Config) (*Provider, error) {
	if cfg.ID == "" {
		return nil, errors.New("oidc: new: provider id is required")
	}
	if cfg.OAuth2 != nil {
		if cfg.Issuer != "" || cfg.LearnIssuer {
			return nil, errors.New("oidc: new: an oauth2 provider has no issuer")
		}
		if err := checkOAuth2(cfg.OAuth2); err != nil {
			return nil, err
		}
	} else if !cfg.LearnIssuer || cfg.Issuer != "" {
		if err := checkEndpointURL(cfg.Issuer); err != nil {
			return nil, fmt.Errorf("oidc: new: issuer: %w", err)
		}
	}
	if cfg.ClientID == "" {
		return nil, errors.New("oidc: new: client id is required")
	}
	if err := checkEndpointURL(cfg.RedirectURL); err != nil {
		return nil, fmt.Errorf("oidc: new: redirect url: %w", err)
	}
	p := &Provider{cfg: cfg, now: cfg.Now, log: cfg.Logger}
	p.creds.Store(&credentials{secret: cfg.ClientSecret, keys: cfg.ClientKeys})
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}

	p.style = cfg.AuthStyle
	hasSecret := cfg.ClientSecret != "" || cfg.Apple != nil
	switch p.style {
	case AuthStyleDefault:
		p.style = AuthStyleNone
		if hasSecret {
			p.style = AuthStylePost
		}
	case AuthStyleBasic, AuthStylePost:
		if !hasSecret {
			return nil, fmt.Errorf("oidc: new: auth style %s needs a client secret", p.style)
		}
	case AuthStyleNone:
		if hasSecret {
			return nil, errors.New("oidc: new: auth style none (public client) must not have a client secret")
		}
	case AuthStylePrivateKeyJWT, AuthStyleSecretJWT:
		if err := checkAssertionStyle(cfg, p.style); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("oidc: new: unknown auth style %d", int(cfg.AuthStyle))
	}

	p.scopes = slices.Clone(cfg.Scopes)
	if len(p.scopes) == 0 {
		p.scopes = []string{"openid", "profile", "email"}
	}
	if !slices.Contains(p.scopes, "openid") && cfg.OAuth2 == nil && cfg.Apple == nil {
		p.scopes = append([]string{"openid"}, p.scopes...)
	}

	p.algs = slices.Clone(cfg.AllowedAlgs)
	for _, a := range p.algs {
		if !supportedAlg(a) {
			return nil, fmt.Errorf("oidc: new: algorithm %q is not allowed (asymmetric RS*, PS*, ES*, EdDSA only)", a)
		}
	}

	p.skew = cfg.ClockSkew
	switch {
	case p.skew == 0:
		p.skew = maxClockSkew
	case p.skew < 0 || p.skew > maxClockSkew:
		return nil, fmt.Errorf("oidc: new: clock skew %s outside (0, %s]", p.skew, maxClockSkew)
	}

	if cfg.CognitoDomain != "" {
		if err := checkEndpointURL(cfg.CognitoDomain); err != nil {
			return nil, fmt.Errorf("oidc: new: cognito domain: %w", err)
		}
		p.cognitoUI = strings.TrimRight(cfg.CognitoDomain, "/")
	}
	if cfg.LearnIssuer {
		l, err := newLearner(cfg, p.cognitoUI)
		if err != nil {
			return nil, fmt.Errorf("oidc: new: %w", err)
		}
		p.learn = l
		if iss := l.get(); iss != "" {
			p.log.Info("cognito: using the user pool issuer pinned by an earlier sign-in; set COGNITO_ISSUER to make it explicit",
				"issuer", iss, "pin", pinName(l.pin), "set", "COGNITO_ISSUER="+iss)
		} else {
			p.log.Info("cognito: user pool issuer not known yet: the first sign-in's ID token names it, and it is then pinned",
				"domain", p.cognitoUI, "pin", pinName(l.pin))
		}
	}
	p.client = safeClient(cfg.HTTPClient)
	if cfg.OAuth2 != nil {
		p.client = oauth2Client(p.client, cfg.OAuth2.UserAgent)
	}
	if cfg.DPoP {
		p.client.Transport = dpopResourceTransport{base: p.client.Transport, p: p}
	}
	p.keys = &keySet{client: p.client, now: p.now, log: p.log}
	return p, nil
}

// ID returns the configured provider id.
func (p *Provider) ID() string { return p.cfg.ID }

// Issuer returns the configured issuer URL, or with Config.LearnIssuer the
// learned one, "" until it is learned.
func (p *Provider) Issuer() string { return p.issuer() }

// issuer is the issuer tokens and discovery must name; "" only while a
// LearnIssuer provider has not learned it.
func (p *Provider) issuer() string {
	if p.learn == nil {
		return p.cfg.Issuer
	}
	return p.learn.get()
}

// checkEndpointURL accepts an absolute https URL, or http on a loopback host,
// without fragment or user info.
func checkEndpointURL(raw string) error {
	if raw == "" {
		return errors.New("empty url")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q must be an absolute url without user info or fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: http is only allowed on loopback (localhost, 127.0.0.0/8, ::1); use https", raw)
	default:
		return fmt.Errorf("%q: scheme must be https", raw)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// safeClient copies c (or makes a client) so that redirects are never
// followed and bodies are capped.
func safeClient(c *http.Client) *http.Client {
	nc := &http.Client{}
	if c != nil {
		*nc = *c
	}
	if nc.Timeout == 0 {
		nc.Timeout = defaultTimeout
	}
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := nc.Transport
	if base == nil {
		base = idpTransport()
	}
	nc.Transport = limitTransport{base: base}
	return nc
}

// idpTransport is a provider's own connection pool: http.DefaultTransport
// keeps 2 idle connections per host, so concurrent sign-ins and refreshes
// would dial the IdP (TCP and TLS) again and again.
func idpTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}

// errBodyTooLarge is returned by a response body read past maxBodyBytes.
var errBodyTooLarge = errors.New("oidc: response body exceeds 1 MiB")

type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, maxBodyBytes+1), c: resp.Body}
	return resp, nil
}

type limitedBody struct {
	r io.Reader
	c io.Closer
	n int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > maxBodyBytes {
		return n, errBodyTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

// oauthConfig builds the x/oauth2 config with an explicit auth style.
func (p *Provider) oauthConfig(e endpoints) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if p.style == AuthStyleBasic {
		style = oauth2.AuthStyleInHeader
	}
	secret := p.clientSecret()
	if p.style == AuthStyleNone || p.assertion() {
		secret = "" // assertions are added by assertionTransport (clientauth.go)
	}
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: secret,
		RedirectURL:  p.cfg.RedirectURL,
		Scopes:       p.scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.authorize,
			TokenURL:  e.token,
			AuthStyle: style,
		},
	}
}

// httpContext hands our client (no redirects, capped bodies) to x/oauth2.
func (p *Provider) httpContext(ctx context.Context) context.Context {
	if p.assertion() || dpopKeyFrom(ctx) != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, p.assertionClient())
	}
	return context.WithValue(ctx, oauth2.HTTPClient, p.client)
}
