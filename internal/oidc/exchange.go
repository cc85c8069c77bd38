package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Result is what a successful Exchange or Refresh yields.
type Result struct {
	Tokens Tokens
	// Claims are the verified ID token's claims (Refresh without a new ID
	// token returns the prev claims passed in).
	Claims *Claims
}

// Tokens are the provider's tokens. They are secrets: store them sealed and
// never log them.
type Tokens struct {
	IDToken      string
	AccessToken  string
	RefreshToken string
	TokenType    string
	// Expiry is when the access token expires; zero when the provider sent no expires_in.
	Expiry time.Time
}

// protectedParams may not be set through AuthCodeURL's extra values.
var protectedParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "request", "request_uri",
}

// AuthCodeURL returns the provider's authorization URL for a code flow with
// PKCE S256: response_type=code, client_id, redirect_uri, scope, state,
// nonce, code_challenge and code_challenge_method. extra values (e.g.
// identity_provider, login_hint, prompt) are added, but any that would
// override a protected parameter (those above, request, request_uri) are
// dropped. state, nonce and codeVerifier must be non-empty; the caller must
// keep them (server-side) to check the callback. Discovery failures wrap
// ErrDiscovery.
func (p *Provider) AuthCodeURL(ctx context.Context, state, nonce, codeVerifier string, extra url.Values) (string, error) {
	if state == "" || nonce == "" || len(codeVerifier) < 43 {
		return "", errors.New("oidc: auth code url: state, nonce and a 43+ char code verifier are required")
	}
	e, err := p.endpoints(ctx)
	if err != nil {
		return "", fmt.Errorf("oidc: auth code url: %w", err)
	}
	u, err := url.Parse(e.authorize)
	if err != nil {
		return "", fmt.Errorf("oidc: auth code url: %w", err)
	}
	q := u.Query()
	for k, vs := range extra {
		if slices.Contains(protectedParams, k) {
			p.log.WarnContext(ctx, "oidc: dropping protected authorize parameter", "param", k)
			continue
		}
		q[k] = slices.Clone(vs)
	}
	q.Set("response_type", "code")
	q.Set("client_id", p.cfg.ClientID)
	q.Set("redirect_uri", p.cfg.RedirectURL)
	q.Set("scope", strings.Join(p.scopes, " "))
	q.Set("state", state)
	if !p.isOAuth2() {
		q.Set("nonce", nonce)
	}
	if p.cfg.Apple != nil {
		q.Set("response_mode", "form_post")
	}
	q.Set("code_challenge", PKCEChallenge(codeVerifier))
	q.Set("code_challenge_method", "S256")
	if push, err := p.usePAR(ctx); err != nil {
		return "", fmt.Errorf("oidc: auth code url: %w", err)
	} else if push {
		return p.pushAuthRequest(ctx, u, q)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Exchange redeems an authorization code (once: it is never retried) and
// verifies the answer: token_type is "bearer" in any case, access_token and
// id_token are present, the ID token passes VerifyIDToken with nonce, its
// at_hash (if any) matches the access token. The profile is completed from
// userinfo with Config.UserInfo, or when the ID token has neither a name
// nor an email (best effort: a failing userinfo then only logs); either
// way a userinfo "sub" other than the ID token's is refused. The caller
// must STILL have checked state (and bound the flow to this provider)
// before calling.
//
// Errors: *Error (EndpointToken) for an OAuth error or an unreadable token response;
// ErrInvalidIDToken / ErrInvalidResponse wrapped for refused answers;
// ErrDiscovery; network errors wrapped (see IsTransient).
func (p *Provider) Exchange(ctx context.Context, code, codeVerifier, nonce string) (*Result, error) {
	if code == "" || codeVerifier == "" {
		return nil, errors.New("oidc: exchange: code and code verifier are required")
	}
	if p.isOAuth2() {
		return p.exchangeOAuth2(ctx, code, codeVerifier)
	}
	e, err := p.endpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", err)
	}
	tok, err := p.oauthConfig(e).Exchange(p.httpContext(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, p.tokenErr(ctx, "exchange", err)
	}
	res, err := p.checkTokenResponse(ctx, tok, nonce, true)
	if err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", err)
	}
	if err := p.exchangeProfile(ctx, e, res.Claims, res.Tokens.AccessToken); err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", err)
	}
	p.noteSignIn(ctx, res)
	return res, nil
}

// Refresh uses a refresh token. The refresh token is kept in the result
// when the provider returns none (Cognito without rotation). prev is the
// session's identity (iss, sub, aud) and last known profile (name, email,
// picture, groups), or nil. A returned ID token is verified without nonce
// and must carry the same iss, sub and aud as prev (when prev is non-nil),
// else ErrInvalidIDToken.
//
// Result.Claims is the session's complete claims after the refresh: the new
// ID token's (else prev's identity), completed from userinfo (with
// Config.UserInfo, or when no name or email is known at all), then from
// prev for the profile claims both lack: a refreshed ID token only proves
// identity, and a provider may leave profile claims out of it. For Cognito,
// whose refreshed ID tokens carry every attribute, groups are not kept from
// prev. A failing userinfo keeps the refresh and prev's profile; a
// userinfo "sub" that is not the user's is ErrInvalidIDToken. Result.Claims
// is nil only when prev is nil and no ID token came back.
//
// Errors: *Error (IsTransient tells a dead refresh token from an
// outage), wrapped network errors. The caller must STILL serialise
// refreshes per session (rotation kills the old token).
func (p *Provider) Refresh(ctx context.Context, refreshToken string, prev *Claims) (*Result, error) {
	if refreshToken == "" {
		return nil, errors.New("oidc: refresh: refresh token is required")
	}
	if p.isOAuth2() {
		return p.refreshOAuth2(ctx, refreshToken, prev)
	}
	e, err := p.endpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: refresh: %w", err)
	}
	tok, err := p.oauthConfig(e).TokenSource(p.httpContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, p.tokenErr(ctx, "refresh", err)
	}
	res, err := p.checkTokenResponse(ctx, tok, "", false)
	if err != nil {
		return nil, fmt.Errorf("oidc: refresh: %w", err)
	}
	if res.Tokens.RefreshToken == "" {
		res.Tokens.RefreshToken = refreshToken
	}
	if c := res.Claims; c != nil && prev != nil {
		if c.Issuer != prev.Issuer || c.Subject != prev.Subject || !sameSet(c.Audience, prev.Audience) {
			return nil, fmt.Errorf("oidc: refresh: %w: identity changed (iss, sub or aud differs from the session's)", ErrInvalidIDToken)
		}
	}
	if err := p.refreshProfile(ctx, e, res, prev); err != nil {
		return nil, fmt.Errorf("oidc: refresh: %w", err)
	}
	return res, nil
}

// checkTokenResponse validates an oauth2 token and its ID token.
func (p *Provider) checkTokenResponse(ctx context.Context, tok *oauth2.Token, nonce string, needIDToken bool) (*Result, error) {
	dpop := dpopKeyFrom(ctx) != nil && strings.EqualFold(tok.TokenType, "dpop")
	if !strings.EqualFold(tok.TokenType, "bearer") && !dpop {
		return nil, fmt.Errorf("%w: token_type %q, want bearer", ErrInvalidResponse, LogText(tok.TokenType))
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: no access_token", ErrInvalidResponse)
	}
	res := &Result{Tokens: Tokens{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    "Bearer",
	}}
	if dpop {
		res.Tokens.TokenType = "DPoP"
	}
	switch {
	case tok.ExpiresIn > 0:
		res.Tokens.Expiry = p.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		res.Tokens.Expiry = tok.Expiry
	}
	idt, _ := tok.Extra("id_token").(string)
	if idt == "" {
		if needIDToken {
			return nil, fmt.Errorf("%w: no id_token although openid was requested", ErrInvalidResponse)
		}
		return res, nil
	}
	claims, alg, err := p.verifyIDToken(ctx, idt, nonce)
	if err != nil {
		return nil, err
	}
	if err := checkAtHash(claims, alg, tok.AccessToken); err != nil {
		return nil, err
	}
	res.Tokens.IDToken = idt
	res.Claims = claims
	return res, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// tokenErr turns an x/oauth2 error into a token endpoint *Error or a wrapped
// transport error, and logs the provider's error fields (never tokens).
func (p *Provider) tokenErr(ctx context.Context, op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &Error{Endpoint: EndpointToken, Code: LogText(re.ErrorCode), Description: LogText(re.ErrorDescription)}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		if te.Code == "" {
			te.Code = "invalid_response"
			te.Description = "unusable token endpoint answer"
		}
		p.log.WarnContext(ctx, "oidc: token endpoint error", "op", op, "error", te.Code,
			"error_description", te.Description, "status", te.Status)
		return fmt.Errorf("oidc: %s: %w", op, te)
	}
	if isNetErr(err) {
		p.log.WarnContext(ctx, "oidc: token endpoint unreachable", "op", op, "err", err)
		return fmt.Errorf("oidc: %s: %w", op, err)
	}
	// x/oauth2 parse failures (HTML or garbage with a 2xx, no access_token).
	// x/oauth2's error carries the response body.
	desc := LogText(err.Error())
	p.log.WarnContext(ctx, "oidc: unusable token response", "op", op, "err", desc)
	return fmt.Errorf("oidc: %s: %w", op, &Error{Endpoint: EndpointToken, Code: "invalid_response", Description: desc})
}
