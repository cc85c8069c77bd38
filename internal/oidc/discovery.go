package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// metadata is the part of the discovery document authbff uses.
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserInfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported       []string `json:"scopes_supported"`

	GrantTypesSupported []string `json:"grant_types_supported"` // grant.go
	// RFC 9126 (par.go).
	PAREndpoint string `json:"pushed_authorization_request_endpoint"`
	RequirePAR  bool   `json:"require_pushed_authorization_requests"`
	// RFC 9449 (dpop.go).
	DPoPAlgs []string `json:"dpop_signing_alg_values_supported"`
}

// endpoints are the URLs actually used, after Cognito's domain override.
type endpoints struct {
	authorize, token, userinfo, revoke, endSession, jwks string
	cognitoLogout                                        string // "<hosted UI>/logout", Cognito only
}

// Discover fetches <issuer>/.well-known/openid-configuration and caches it
// on success; after a failure the next call tries again. The document's
// issuer must equal Config.Issuer exactly, and its endpoints must be https
// (http on loopback). Errors wrap ErrDiscovery. Every other method calls it
// lazily, so calling it at start-up is only a way to fail early. With
// LearnIssuer, before the issuer is learned there is nothing to discover
// and Discover returns nil.
func (p *Provider) Discover(ctx context.Context) error {
	if p.issuer() == "" {
		return nil // LearnIssuer before the first sign-in: nothing to discover yet
	}
	_, err := p.discover(ctx)
	return err
}

func (p *Provider) discover(ctx context.Context) (*metadata, error) {
	p.discMu.Lock()
	defer p.discMu.Unlock()
	if p.meta != nil {
		return p.meta, nil
	}
	if p.issuer() == "" {
		return nil, errIssuerPending
	}
	m, err := p.fetchMetadata(ctx)
	if err != nil {
		p.log.WarnContext(ctx, "oidc discovery failed", "issuer", p.issuer(), "err", err)
		return nil, err
	}
	p.meta = m
	p.keys.setURI(m.JWKSURI)
	return m, nil
}

func (p *Provider) fetchMetadata(ctx context.Context) (*metadata, error) {
	u := strings.TrimSuffix(p.issuer(), "/") + "/.well-known/openid-configuration"
	var m metadata
	if err := p.getJSON(ctx, u, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDiscovery, err)
	}
	if m.Issuer != p.issuer() && !p.multiTenant(m.Issuer) {
		return nil, fmt.Errorf("%w: discovery issuer %q does not equal the configured issuer %q", ErrDiscovery, m.Issuer, p.issuer())
	}
	required := map[string]string{
		"authorization_endpoint": m.AuthorizationEndpoint,
		"token_endpoint":         m.TokenEndpoint,
		"jwks_uri":               m.JWKSURI,
	}
	for name, v := range required {
		if err := checkEndpointURL(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrDiscovery, name, err)
		}
	}
	optional := map[string]*string{
		"userinfo_endpoint":    &m.UserInfoEndpoint,
		"revocation_endpoint":  &m.RevocationEndpoint,
		"end_session_endpoint": &m.EndSessionEndpoint,
	}
	for name, v := range optional {
		if *v == "" {
			continue
		}
		if err := checkEndpointURL(*v); err != nil {
			p.log.WarnContext(ctx, "oidc discovery: ignoring unusable endpoint", "endpoint", name, "err", err)
			*v = ""
		}
	}
	return &m, nil
}

// endpoints discovers and applies the Cognito hosted-UI override.
func (p *Provider) endpoints(ctx context.Context) (endpoints, error) {
	if p.isOAuth2() {
		return p.oauth2Endpoints(), nil
	}
	if p.issuer() == "" {
		return p.learn.endpoints(), nil
	}
	m, err := p.discover(ctx)
	if err != nil {
		return endpoints{}, err
	}
	e := endpoints{
		authorize:  m.AuthorizationEndpoint,
		token:      m.TokenEndpoint,
		userinfo:   m.UserInfoEndpoint,
		revoke:     m.RevocationEndpoint,
		endSession: m.EndSessionEndpoint,
		jwks:       m.JWKSURI,
	}
	if !p.cfg.Cognito && p.cognitoUI == "" {
		return e, nil
	}
	base := p.cognitoUI
	if base == "" {
		base = cognitoBaseFromAuthorize(m.AuthorizationEndpoint)
	}
	if p.cognitoUI != "" {
		e.authorize = base + "/oauth2/authorize"
		e.token = base + "/oauth2/token"
		e.userinfo = base + "/oauth2/userInfo"
		e.revoke = base + "/oauth2/revoke"
	}
	if base != "" {
		if e.revoke == "" {
			e.revoke = base + "/oauth2/revoke"
		}
		e.cognitoLogout = base + "/logout"
	}
	return e, nil
}

// getJSON GETs u and decodes a 200 JSON answer into v.
func (p *Provider) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	return p.doJSON(req, v)
}

// doJSON sends req and decodes a 200 JSON answer into v.
func (p *Provider) doJSON(req *http.Request, v any) error {
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", strings.ToLower(req.Method), req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return &httpStatusError{URL: req.URL.Redacted(), Status: resp.StatusCode}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return fmt.Errorf("%w: %s: content type %q, want application/json", ErrInvalidResponse, req.URL.Redacted(), ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: decode json: %w", ErrInvalidResponse, req.URL.Redacted(), err)
	}
	return nil
}

// httpStatusError is a non-200 answer from a JSON endpoint.
type httpStatusError struct {
	URL    string
	Status int
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("oidc: %s: http status %d", e.URL, e.Status)
}
