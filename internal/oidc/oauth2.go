package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Plain OAuth 2.0 providers (Config.OAuth2): GitHub and any provider
// without OpenID Connect. There is no discovery, no ID token and no nonce:
// the user is who the provider's profile endpoint (userinfo), called with
// the fresh access token over TLS, says they are. state and PKCE S256 are
// sent as with OIDC (PKCE even when the provider ignores it), and the
// profile's "sub" (after ProfileMap) is required.

// OAuth2 configures a plain OAuth 2.0 provider. The three URLs are
// required (https, http on loopback).
type OAuth2 struct {
	AuthorizationURL, TokenURL, UserInfoURL string
	// Profile maps the userinfo JSON to the user; nil is DefaultProfileMap.
	Profile ProfileMap
	// GitHubAPI is GitHub's REST API base ("https://api.github.com", or
	// "<enterprise>/api/v3"): when the profile has no e-mail, the primary
	// verified address of <GitHubAPI>/user/emails is used (never an
	// unverified one). "" for other providers.
	GitHubAPI string
	// UserAgent is sent on every call (GitHub refuses calls without one);
	// "" sends "authbff".
	UserAgent string
}

// ProfileMap maps the session user's fields (sub, name, email, image,
// email_verified) to the profile JSON's keys, each a list of fallbacks
// tried in order ("name|login"); a key may be a dotted path ("data.id").
type ProfileMap map[string][]string

// DefaultProfileMap is the profile map of an OAuth 2.0 provider that
// configures none.
var DefaultProfileMap = ProfileMap{
	"sub": {"sub", "id"}, "name": {"name", "login", "preferred_username"},
	"email": {"email"}, "image": {"picture", "avatar_url"},
}

// profileFields are the fields a ProfileMap may set.
var profileFields = []string{"sub", "name", "email", "image", "email_verified"}

// ParseProfileMap reads "sub=id name=name|login email=email image=avatar_url"
// (space or comma separated field=key[|key...] pairs). sub is required.
func ParseProfileMap(s string) (ProfileMap, error) {
	m := ProfileMap{}
	for _, item := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
		field, keys, ok := strings.Cut(item, "=")
		if !ok || keys == "" {
			return nil, fmt.Errorf("%q is not field=key", item)
		}
		known := false
		for _, f := range profileFields {
			known = known || f == field
		}
		if !known {
			return nil, fmt.Errorf("%q: unknown field %q (use %s)", item, field, strings.Join(profileFields, ", "))
		}
		if _, dup := m[field]; dup {
			return nil, fmt.Errorf("field %q mapped twice", field)
		}
		for _, k := range strings.Split(keys, "|") {
			if k == "" {
				return nil, fmt.Errorf("%q has an empty key", item)
			}
			m[field] = append(m[field], k)
		}
	}
	if len(m["sub"]) == 0 {
		return nil, errors.New("sub is not mapped (e.g. sub=id)")
	}
	return m, nil
}

// isOAuth2 reports whether p is a plain OAuth 2.0 provider.
func (p *Provider) isOAuth2() bool { return p.cfg.OAuth2 != nil }

// oauth2Endpoints are the configured endpoints of a plain OAuth 2.0 provider.
func (p *Provider) oauth2Endpoints() endpoints {
	o := p.cfg.OAuth2
	return endpoints{authorize: o.AuthorizationURL, token: o.TokenURL, userinfo: o.UserInfoURL}
}

// checkOAuth2 validates Config.OAuth2 in New.
func checkOAuth2(o *OAuth2) error {
	for name, u := range map[string]string{"authorization url": o.AuthorizationURL, "token url": o.TokenURL, "userinfo url": o.UserInfoURL} {
		if err := checkEndpointURL(u); err != nil {
			return fmt.Errorf("oidc: new: oauth2 %s: %w", name, err)
		}
	}
	if o.GitHubAPI != "" {
		if err := checkEndpointURL(o.GitHubAPI); err != nil {
			return fmt.Errorf("oidc: new: github api: %w", err)
		}
	}
	if o.Profile != nil && len(o.Profile["sub"]) == 0 {
		return errors.New("oidc: new: oauth2 profile map has no sub")
	}
	return nil
}

// headerTransport adds Accept: application/json and a User-Agent to every
// request: GitHub's token endpoint answers form-encoded without the first
// and its API refuses calls without the second.
type headerTransport struct {
	base http.RoundTripper
	ua   string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "application/json")
	}
	r.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(r)
}

// oauth2Client wraps c with headerTransport.
func oauth2Client(c *http.Client, ua string) *http.Client {
	nc := *c
	if ua == "" {
		ua = "authbff"
	}
	nc.Transport = headerTransport{base: c.Transport, ua: ua}
	return &nc
}

// exchangeOAuth2 is Exchange for a plain OAuth 2.0 provider: the token call
// (JSON or form-encoded answer; an "error" in a 200 answer is a
// *Error), then the profile. Result.Claims has Subject, the profile
// fields and Raw (the profile JSON); Issuer is "".
func (p *Provider) exchangeOAuth2(ctx context.Context, code, codeVerifier string) (*Result, error) {
	e := p.oauth2Endpoints()
	tok, err := p.oauthConfig(e).Exchange(p.httpContext(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, p.tokenErr(ctx, "exchange", err)
	}
	res, err := p.oauth2Tokens(tok)
	if err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", err)
	}
	c, err := p.oauth2Profile(ctx, res.Tokens.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", err)
	}
	res.Claims = c
	return res, nil
}

// refreshOAuth2 is Refresh for a plain OAuth 2.0 provider: new tokens, the
// identity and profile kept from prev (no ID token proves anything new).
func (p *Provider) refreshOAuth2(ctx context.Context, refreshToken string, prev *Claims) (*Result, error) {
	tok, err := p.oauthConfig(p.oauth2Endpoints()).TokenSource(p.httpContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, p.tokenErr(ctx, "refresh", err)
	}
	res, err := p.oauth2Tokens(tok)
	if err != nil {
		return nil, fmt.Errorf("oidc: refresh: %w", err)
	}
	if res.Tokens.RefreshToken == "" {
		res.Tokens.RefreshToken = refreshToken
	}
	if prev != nil {
		c := *prev
		res.Claims = &c
	}
	return res, nil
}

// oauth2Tokens checks a token answer: an access token, a bearer (or
// absent) token_type; expiry from expires_in.
func (p *Provider) oauth2Tokens(tok *oauth2.Token) (*Result, error) {
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return nil, fmt.Errorf("%w: token_type %q, want bearer", ErrInvalidResponse, LogText(tok.TokenType))
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: no access_token", ErrInvalidResponse)
	}
	res := &Result{Tokens: Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: "Bearer"}}
	switch {
	case tok.ExpiresIn > 0:
		res.Tokens.Expiry = p.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		res.Tokens.Expiry = tok.Expiry
	}
	return res, nil
}

// oauth2Profile reads the user from the userinfo URL through the profile
// map; a profile without sub is ErrInvalidResponse.
func (p *Provider) oauth2Profile(ctx context.Context, accessToken string) (*Claims, error) {
	o := p.cfg.OAuth2
	var raw map[string]any
	if err := p.oauth2GetJSON(ctx, o.UserInfoURL, accessToken, &raw); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: profile is not a json object", ErrInvalidResponse)
	}
	m := o.Profile
	if m == nil {
		m = DefaultProfileMap
	}
	c := &Claims{Raw: raw}
	c.Subject = profileString(raw, m["sub"])
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: the profile has no sub (profile map sub=%s)", ErrInvalidResponse, strings.Join(m["sub"], "|"))
	}
	c.Name = profileString(raw, m["name"])
	c.Email = profileString(raw, m["email"])
	c.Picture = profileString(raw, m["image"])
	c.EmailVerified = profileString(raw, m["email_verified"]) == "true"
	if o.GitHubAPI != "" {
		if err := p.githubEmail(ctx, accessToken, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// profileString returns the first non-empty value of keys in raw, as a
// string (numbers and booleans in their JSON spelling).
func profileString(raw map[string]any, keys []string) string {
	for _, k := range keys {
		var v any = raw
		for _, part := range strings.Split(k, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = obj[part]
		}
		switch x := v.(type) {
		case string:
			if x != "" {
				return x
			}
		case json.Number:
			return x.String()
		case bool:
			return fmt.Sprint(x)
		}
	}
	return ""
}

// oauth2GetJSON GETs u with the access token and decodes a 200 JSON
// answer (numbers as json.Number) into v.
func (p *Provider) oauth2GetJSON(ctx context.Context, u, accessToken string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	var raw json.RawMessage
	if err := p.doJSON(req, &raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidResponse, req.URL.Redacted(), err)
	}
	return nil
}
