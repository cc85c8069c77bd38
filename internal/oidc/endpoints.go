package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jws"
)

// UserInfo calls the userinfo endpoint with the access token and returns
// its claims (email_verified may be the string "true", as Cognito sends).
// The caller must STILL compare Subject with the ID token's (Exchange does
// when Config.UserInfo is set); nothing else is verified. No endpoint:
// ErrNotSupported.
func (p *Provider) UserInfo(ctx context.Context, accessToken string) (*Claims, error) {
	e, err := p.endpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: userinfo: %w", err)
	}
	c, err := p.userInfo(ctx, e, accessToken)
	if err != nil {
		return nil, fmt.Errorf("oidc: userinfo: %w", err)
	}
	return c, nil
}

func (p *Provider) userInfo(ctx context.Context, e endpoints, accessToken string) (*Claims, error) {
	if e.userinfo == "" {
		return nil, ErrNotSupported
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.userinfo, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	if k := dpopKeyFrom(ctx); k != nil {
		req = p.dpopUserInfo(req, k, accessToken)
	}
	var raw json.RawMessage
	if err := p.doJSON(req, &raw); err != nil {
		return nil, err
	}
	c, err := parseClaims(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %w", ErrInvalidResponse, err)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: userinfo has no sub", ErrInvalidResponse)
	}
	return c, nil
}

// mergeUserInfo fills profile claims the ID token lacks from userinfo.
func mergeUserInfo(c, ui *Claims) {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&c.Name, ui.Name)
	fill(&c.GivenName, ui.GivenName)
	fill(&c.FamilyName, ui.FamilyName)
	fill(&c.Nickname, ui.Nickname)
	fill(&c.PreferredUsername, ui.PreferredUsername)
	fill(&c.Picture, ui.Picture)
	fill(&c.CognitoUsername, ui.CognitoUsername)
	if _, has := c.Raw["email_verified"]; c.Email == "" || (!has && c.Email == ui.Email) {
		c.Email, c.EmailVerified = ui.Email, ui.EmailVerified
	}
	if c.Groups == nil {
		c.Groups = ui.Groups
	}
	// The other claims too (for AUTH_SESSION_CLAIMS), under the ID token's:
	// every check of the ID token has run before.
	for k, v := range ui.Raw {
		if _, has := c.Raw[k]; !has {
			if c.Raw == nil {
				c.Raw = map[string]any{}
			}
			c.Raw[k] = v
		}
	}
}

// Revoke revokes a refresh token (RFC 7009: token, token_type_hint=
// refresh_token, the configured client authentication; for Cognito a
// confidential client always uses Basic, as /oauth2/revoke requires). The endpoint is
// discovery's revocation_endpoint, for Cognito <hosted UI>/oauth2/revoke.
// No endpoint: ErrNotSupported. An error answer is an *Error (EndpointRevocation). Revoked
// JWTs still verify locally: the caller must STILL delete its session.
func (p *Provider) Revoke(ctx context.Context, refreshToken string) error {
	e, err := p.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("oidc: revoke: %w", err)
	}
	if e.revoke == "" {
		return fmt.Errorf("oidc: revoke: %w", ErrNotSupported)
	}
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	// Cognito's /oauth2/revoke takes a confidential client's secret only in a
	// Basic header, built from the raw (not form-encoded) id and secret.
	basic := p.style == AuthStyleBasic || (p.cfg.Cognito && p.style == AuthStylePost)
	if !basic || p.cfg.Cognito {
		form.Set("client_id", p.cfg.ClientID)
	}
	if !basic && p.style == AuthStylePost {
		form.Set("client_secret", p.clientSecret())
	}
	if p.assertion() {
		if _, _, _, err := p.authenticateForm(form, e.revoke); err != nil {
			return fmt.Errorf("oidc: revoke: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.revoke, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oidc: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch {
	case basic && p.cfg.Cognito:
		req.SetBasicAuth(p.cfg.ClientID, p.clientSecret())
	case basic:
		// RFC 6749 2.3.1: form-encode id and secret first, as x/oauth2 does.
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.clientSecret()))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("oidc: revoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	te := &Error{Endpoint: EndpointRevocation, Code: "invalid_response", Status: resp.StatusCode}
	var ej struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/json" && json.Unmarshal(body, &ej) == nil && ej.Error != "" {
		te.Code, te.Description = LogText(ej.Error), LogText(ej.Description)
	}
	p.log.WarnContext(ctx, "oidc: revocation failed", "error", te.Code, "error_description", te.Description, "status", te.Status)
	return fmt.Errorf("oidc: revoke: %w", te)
}

// EndSessionURL returns where to send the browser to end the provider's
// session; idToken is the session's ID token and postLogoutRedirect where
// the provider sends the browser back. Cognito: <hosted UI>/logout?
// client_id=..&logout_uri=<postLogoutRedirect> (postLogoutRedirect must be
// an "Allowed sign-out URL" exactly). Others (OpenID RP-Initiated Logout
// 1.0): end_session_endpoint with client_id, post_logout_redirect_uri and,
// when idToken carries one, logout_hint: its "login_hint" claim (what
// Microsoft Entra asks for), else its "sid" (what Auth0 matches). The ID
// token itself goes into the URL as id_token_hint only with
// Config.LogoutIDTokenHint: this URL is visible to the browser (history,
// extensions, the provider's access logs), and tokens stay on the server
// unless a provider needs it. Empty values are left out. No endpoint:
// ErrNotSupported. The caller must STILL end its own session first; this
// URL is a top-level navigation only.
func (p *Provider) EndSessionURL(ctx context.Context, idToken, postLogoutRedirect string) (string, error) {
	e, err := p.endpoints(ctx)
	if err != nil {
		return "", fmt.Errorf("oidc: end session url: %w", err)
	}
	var base string
	q := url.Values{}
	if p.cfg.Cognito {
		if e.cognitoLogout == "" {
			return "", fmt.Errorf("oidc: end session url: %w: hosted-UI domain unknown", ErrNotSupported)
		}
		base = e.cognitoLogout
		q.Set("client_id", p.cfg.ClientID)
		if postLogoutRedirect != "" {
			q.Set("logout_uri", postLogoutRedirect)
		}
	} else {
		if e.endSession == "" {
			return "", fmt.Errorf("oidc: end session url: %w", ErrNotSupported)
		}
		base = e.endSession
		if idToken != "" && p.cfg.LogoutIDTokenHint {
			q.Set("id_token_hint", idToken)
		}
		if hint := logoutHint(idToken); hint != "" {
			q.Set("logout_hint", hint)
		}
		if postLogoutRedirect != "" {
			q.Set("post_logout_redirect_uri", postLogoutRedirect)
		}
		q.Set("client_id", p.cfg.ClientID)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("oidc: end session url: %w", err)
	}
	merged := u.Query()
	for k, vs := range q {
		merged[k] = vs
	}
	u.RawQuery = merged.Encode()
	return u.String(), nil
}

// logoutHint is the logout_hint for a session's ID token: its "login_hint"
// claim, else its "sid", else "". The token was verified when it was
// received; it is only read here.
func logoutHint(idToken string) string {
	if idToken == "" {
		return ""
	}
	msg, err := jws.Parse([]byte(idToken))
	if err != nil {
		return ""
	}
	c, err := parseClaims(msg.Payload())
	if err != nil {
		return ""
	}
	if h, _ := c.Raw["login_hint"].(string); h != "" {
		return h
	}
	return c.SID
}
