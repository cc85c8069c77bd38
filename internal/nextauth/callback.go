package nextauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// Callback is GET/POST /callback/:provider: params are the authorization
// response (query, or form for response_mode=form_post). It checks the
// response against the flow cookie found by its state (cleared whatever
// happens, so a callback can never be used twice), redeems the code, checks
// the ID token, applies the sign-in policy, creates the session, sets its
// cookie and returns the flow's callbackUrl. Failures are an *Error whose
// URL is the error page; a store outage is Unavailable.
func (c *Core) Callback(ctx context.Context, r *Request, id string, params url.Values) (string, error) {
	to, err := c.callback(ctx, r, id, params)
	c.countSignIn(id, err)
	return to, err
}

// countSignIn counts an ended sign-in: ok, the contract's (v4) error code,
// or unavailable.
func (c *Core) countSignIn(id string, err error) {
	var e *Error
	switch {
	case err == nil:
		c.metrics.SignIn(id, metrics.ResultOK)
	case errors.As(err, &e) && e.Unavailable():
		c.metrics.SignIn(id, metrics.ResultUnavailable)
	case errors.As(err, &e):
		c.metrics.SignIn(id, string(e.Code))
	default:
		c.metrics.SignIn(id, metrics.ResultOther)
	}
}

func (c *Core) callback(ctx context.Context, r *Request, id string, params url.Values) (string, error) {
	log := c.logger(r)
	fail := func(code Code, extra url.Values) error { return c.pageError(code, extra) }
	p := c.providers[id]
	if p == nil {
		log.Info("callback for an unknown provider", "provider", oidc.LogText(id))
		return "", fail(CodeOAuthCallback, nil)
	}
	state := params.Get("state")
	name := c.names.FlowPrefix + "." + auth.FlowKey(state)
	raw := r.Cookies.Get(name)
	if raw != "" {
		r.Cookies.Clear(name)
	}
	ctx, code, _, err := p.client.CheckAuthResponse(ctx, params)
	var authErr *oidc.Error
	if errors.As(err, &authErr) {
		log.Info("identity provider returned an error", "provider", id, "error", authErr.Code, "error_description", authErr.Description)
		return "", fail(CodeCallback, url.Values{"provider": {id}, "code": {SafeCode(authErr.Code)}})
	}
	if err != nil {
		log.Warn("callback refused: malformed authorization response", "provider", id, "err", err)
		return "", fail(CodeOAuthCallback, nil)
	}
	if raw == "" || state == "" {
		log.Warn("callback refused: no sign-in flow in progress for this state in this browser", "provider", id)
		return "", fail(CodeOAuthCallback, nil)
	}
	flow, err := c.sealer.Load().Open(name, raw, state, id)
	if err != nil {
		log.Warn("callback refused: flow state invalid, expired or for another provider", "provider", id)
		return "", fail(CodeOAuthCallback, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if replay, err := c.markFlowUsed(ctx, flow); err != nil {
		return "", storeErr(err)
	} else if replay {
		log.Warn("callback refused: this sign-in flow was already completed (replay)", "provider", id)
		return "", fail(CodeOAuthCallback, nil)
	}
	ctx, dpopKey, err := newDPoPKey(ctx, p.client)
	if err != nil {
		log.Error("sign-in: cannot make the session's DPoP key", "err", err)
		return "", fail(CodeConfiguration, nil)
	}
	res, err := p.client.Exchange(ctx, code, flow.Verifier, flow.Nonce)
	if errors.Is(err, oidc.ErrNotAllowed) {
		log.Info("sign-in refused by the provider's settings", "provider", id, "err", err)
		return "", fail(CodeAccessDenied, nil)
	}
	if err != nil {
		var te *oidc.Error
		if errors.As(err, &te) {
			log.Error("token endpoint refused the code exchange", "provider", id, "error", te.Code,
				"error_description", te.Description, "status", te.Status)
			return "", fail(CodeOAuthCallback, url.Values{"provider": {id}, "code": {SafeCode(te.Code)}})
		}
		log.Error("sign-in failed after the IdP redirect", "provider", id, "err", err)
		return "", fail(CodeOAuthCallback, url.Values{"provider": {id}})
	}
	cl := res.Claims
	if err := checkStepUp(flow, cl, c.now()); err != nil {
		log.Warn("sign-in refused: the ID token does not answer the step-up asked for", "provider", id, "err", err)
		return "", fail(CodeOAuthCallback, url.Values{"provider": {id}, "code": {"insufficient_user_authentication"}})
	}
	if p.cfg.Apple != nil {
		c.appleName(log, cl, params)
	}
	if p.cfg.GroupsClaim != "" {
		cl.Groups, _ = groupsOf(p, cl)
	}
	if !c.allowed(cl) {
		log.Info("sign-in refused by policy", "provider", id, "sub", cl.Subject)
		return "", fail(CodeAccessDenied, nil)
	}
	data := session.Data{
		Provider: id, Issuer: cl.Issuer, Subject: cl.Subject,
		User: session.User{ID: cl.Subject, Name: cl.DisplayName(), Email: cl.Email, Image: cl.Picture, Groups: cl.Groups},
		Tokens: session.Tokens{
			IDToken: res.Tokens.IDToken, AccessToken: res.Tokens.AccessToken,
			RefreshToken: res.Tokens.RefreshToken, TokenType: res.Tokens.TokenType, AccessExpiry: res.Tokens.Expiry,
		},
		Claims: mapClaims(log, c.cfg.SessionClaims, cl, nil),
	}
	if !c.runSignInHook(ctx, log, &data, cl.Raw) {
		log.Info("sign-in refused by the sign-in hook", "provider", id, "sub", cl.Subject)
		return "", fail(CodeAccessDenied, nil)
	}
	data.ACR, data.AuthTime = stepUpClaims(cl)
	data.DPoPKey = dpopKey
	ua := r.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	token, s, err := c.sessions.Create(ctx, data, session.Meta{UserAgent: ua, SID: cl.SID})
	if err != nil {
		return "", storeErr(err)
	}
	r.Cookies.Set(c.names.Session, token, s.Expires)
	log.Info("signed in", "provider", id, "sub", cl.Subject, "session", s.ID[:12], "client_ip", r.ClientIP)
	c.emit(ctx, Event{Kind: EventSignedIn, Provider: id, Subject: cl.Subject, Session: s.ID[:12]})
	return c.SafeURL(flow.CallbackURL), nil
}

// pageError is the error of a navigation: code, its message, and the
// error page's URL (with extra, e.g. the provider and its error code).
func (c *Core) pageError(code Code, extra url.Values) *Error {
	return &Error{Code: code, Message: code.Message(), URL: c.ErrorURL(string(code), extra)}
}

// CallbackBodyError is the answer to a form_post callback whose body cannot
// be read: the error page, as for any callback that cannot be completed.
func (c *Core) CallbackBodyError(err error) error {
	e := c.pageError(CodeOAuthCallback, nil)
	e.Err = err
	return e
}

// markFlowUsed records a completed flow in the store's one-time markers
// (shared by every instance) for the flow's lifetime and reports whether it
// was already there (a replayed callback).
func (c *Core) markFlowUsed(ctx context.Context, f auth.Flow) (bool, error) {
	return c.sessions.MarkUsed(ctx, "flow:"+auth.FlowKey(f.State), f.Created.Add(auth.FlowMaxAge+time.Minute))
}

// SafeCode keeps an OAuth error code fit for a URL: the RFC 6749 charset,
// bounded. It is shown on the error page with its diagnosis.
func SafeCode(code string) string {
	if len(code) > 64 {
		return "invalid_response"
	}
	for _, r := range code {
		if !(r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return "invalid_response"
		}
	}
	return code
}

// allowed applies the sign-in policy (NextAuth's signIn callback as config).
func (c *Core) allowed(cl *oidc.Claims) bool {
	if len(c.cfg.AllowedGroups) > 0 {
		ok := false
		for _, g := range cl.Groups {
			for _, want := range c.cfg.AllowedGroups {
				if g == want {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	if len(c.cfg.AllowedEmailDomains) > 0 {
		at := strings.LastIndexByte(cl.Email, '@')
		if at < 0 || !cl.EmailVerified {
			return false
		}
		dom := strings.ToLower(cl.Email[at+1:])
		for _, want := range c.cfg.AllowedEmailDomains {
			if dom == want {
				return true
			}
		}
		return false
	}
	return true
}
