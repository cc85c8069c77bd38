package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// errorURL is the absolute error page URL for an internal (v4) code, in the
// flavour's vocabulary. extra carries the provider's error code for the
// diagnosis (never a description, never a token).
func (a *App) errorURL(code string, extra url.Values) string {
	q := url.Values{"error": {auth.ClientCode(a.flavor, code)}}
	for k, v := range extra {
		q[k] = v
	}
	return a.base + "/error?" + q.Encode()
}

func (a *App) handleSignin(c *gin.Context) {
	body, jsonMode, ok := a.actionForm(c, "signin")
	if !ok {
		return
	}
	id := c.Param("provider")
	p := a.providers[id]
	if p == nil {
		if a.flavor == auth.FlavorV5 {
			redirect(c, jsonMode, a.errorURL(auth.ErrConfiguration, nil))
		} else {
			redirect(c, jsonMode, a.base+"/signin?csrf=true")
		}
		return
	}
	callback := a.callbackURL(c, body)
	flow := auth.Flow{
		Provider: id, State: oidc.RandomString(32), Verifier: oidc.NewVerifier(),
		Nonce: oidc.RandomString(32), CallbackURL: callback, Created: a.now(),
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 10*time.Second)
	defer cancel()
	authURL, err := p.client.AuthCodeURL(ctx, flow.State, flow.Nonce, flow.Verifier, c.Request.URL.Query())
	if err != nil {
		a.reqLog(c).Error("sign-in: cannot build the authorization URL", "provider", id, "err", err)
		redirect(c, jsonMode, a.errorURL(auth.ErrOAuthSignin, url.Values{"provider": {id}}))
		return
	}
	name := a.names.FlowPrefix + "." + auth.FlowKey(flow.State)
	sealed, err := a.sealer.Seal(name, flow)
	if err != nil {
		a.reqLog(c).Error("sign-in: sealing flow state", "err", err)
		redirect(c, jsonMode, a.errorURL(auth.ErrConfiguration, nil))
		return
	}
	a.pruneFlows(c)
	a.setCookie(c, name, sealed, a.now().Add(auth.FlowMaxAge))
	redirect(c, jsonMode, authURL)
}

// maxFlows bounds the sign-ins a browser may have in progress at once (tabs,
// repeated clicks): each is a cookie sent with every request for 15 minutes.
const maxFlows = 4

// pruneFlows clears the request's oldest flow cookies (and unreadable ones)
// so that, with the one being started, at most maxFlows remain.
func (a *App) pruneFlows(c *gin.Context) {
	type flowCookie struct {
		name    string
		created time.Time
	}
	var live []flowCookie
	for _, ck := range c.Request.Cookies() {
		if !strings.HasPrefix(ck.Name, a.names.FlowPrefix+".") {
			continue
		}
		f, err := a.sealer.Peek(ck.Name, ck.Value)
		if err != nil || a.now().Sub(f.Created) > auth.FlowMaxAge {
			a.clearCookie(c, ck.Name)
			continue
		}
		live = append(live, flowCookie{ck.Name, f.Created})
	}
	if len(live) < maxFlows {
		return
	}
	sort.Slice(live, func(i, j int) bool { return live[i].created.After(live[j].created) })
	for _, fc := range live[maxFlows-1:] {
		a.clearCookie(c, fc.name)
	}
}

// actionForm reads the body of POST /signin/:provider or /signout and checks
// its CSRF token and origin. When they fail it has already answered (the
// flavour's CSRF error URL, as {url} or a 302) and ok is false; nothing has
// been changed.
func (a *App) actionForm(c *gin.Context, action string) (body url.Values, jsonMode, ok bool) {
	body, err := readBody(c)
	jsonMode = wantsJSON(c, body) // a nil body (unreadable) still honours the header
	if err != nil || !a.csrfOK(c, body) {
		a.reqLog(c).Info(action+" refused: unreadable body, missing or invalid CSRF token, or cross-site origin", "err", err)
		redirect(c, jsonMode, a.csrfFailURL(action))
		return nil, jsonMode, false
	}
	return body, jsonMode, true
}

// csrfFailURL is where a POST with a bad CSRF token is sent.
func (a *App) csrfFailURL(action string) string {
	if a.flavor == auth.FlavorV5 {
		return a.base + "/signin?error=MissingCSRF"
	}
	return a.base + "/" + action + "?csrf=true"
}

func (a *App) handleCallback(c *gin.Context) {
	log := a.reqLog(c)
	id := c.Param("provider")
	params := c.Request.URL.Query()
	if c.Request.Method == http.MethodPost {
		body, err := readBody(c)
		if err != nil {
			c.Redirect(http.StatusFound, a.errorURL(auth.ErrOAuthCallback, nil))
			return
		}
		params = body
	}
	p := a.providers[id]
	if p == nil {
		log.Info("callback for an unknown provider", "provider", id)
		c.Redirect(http.StatusFound, a.errorURL(auth.ErrOAuthCallback, nil))
		return
	}
	fail := func(code string, extra url.Values) {
		c.Redirect(http.StatusFound, a.errorURL(code, extra))
	}
	// The flow cookie is found by the state the IdP sent back; it is cleared
	// whatever happens next, so a callback can never be used twice.
	state := params.Get("state")
	name := a.names.FlowPrefix + "." + auth.FlowKey(state)
	raw := cookieValue(c, name)
	if raw != "" {
		a.clearCookie(c, name)
	}
	code, _, err := oidc.ValidateAuthResponse(params, p.cfg.Issuer)
	var authErr *oidc.AuthError
	if errors.As(err, &authErr) {
		log.Info("identity provider returned an error", "provider", id, "error", authErr.Code, "error_description", authErr.Description)
		fail(auth.ErrCallback, url.Values{"provider": {id}, "code": {safeCode(authErr.Code)}})
		return
	}
	if err != nil {
		log.Warn("callback refused: malformed authorization response", "provider", id, "err", err)
		fail(auth.ErrOAuthCallback, nil)
		return
	}
	if raw == "" || state == "" {
		log.Warn("callback refused: no sign-in flow in progress for this state in this browser", "provider", id)
		fail(auth.ErrOAuthCallback, nil)
		return
	}
	flow, err := a.sealer.Open(name, raw, state, id)
	if err != nil {
		log.Warn("callback refused: flow state invalid, expired or for another provider", "provider", id)
		fail(auth.ErrOAuthCallback, nil)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 15*time.Second)
	defer cancel()
	if replay, err := a.markFlowUsed(ctx, flow); err != nil {
		a.storeUnavailable(c, err)
		return
	} else if replay {
		log.Warn("callback refused: this sign-in flow was already completed (replay)", "provider", id)
		fail(auth.ErrOAuthCallback, nil)
		return
	}
	res, err := p.client.Exchange(ctx, code, flow.Verifier, flow.Nonce)
	if err != nil {
		var te *oidc.TokenError
		if errors.As(err, &te) {
			log.Error("token endpoint refused the code exchange", "provider", id, "error", te.Code,
				"error_description", te.Description, "status", te.Status)
			fail(auth.ErrOAuthCallback, url.Values{"provider": {id}, "code": {safeCode(te.Code)}})
			return
		}
		log.Error("sign-in failed after the IdP redirect", "provider", id, "err", err)
		fail(auth.ErrOAuthCallback, url.Values{"provider": {id}})
		return
	}
	cl := res.Claims
	if !a.allowed(cl) {
		log.Info("sign-in refused by policy", "provider", id, "sub", cl.Subject)
		fail(auth.ErrAccessDenied, nil)
		return
	}
	data := session.Data{
		Provider: id, Issuer: cl.Issuer, Subject: cl.Subject,
		User: session.User{ID: cl.Subject, Name: cl.DisplayName(), Email: cl.Email, Image: cl.Picture, Groups: cl.Groups},
		Tokens: session.Tokens{
			IDToken: res.Tokens.IDToken, AccessToken: res.Tokens.AccessToken,
			RefreshToken: res.Tokens.RefreshToken, TokenType: res.Tokens.TokenType, AccessExpiry: res.Tokens.Expiry,
		},
	}
	ua := c.GetHeader("User-Agent")
	if len(ua) > 256 {
		ua = ua[:256]
	}
	token, s, err := a.sessions.Create(ctx, data, session.Meta{UserAgent: ua, SID: cl.SID})
	if err != nil {
		a.storeUnavailable(c, err)
		return
	}
	a.setCookie(c, a.names.Session, token, s.Expires)
	log.Info("signed in", "provider", id, "sub", cl.Subject, "session", s.ID[:12], "client_ip", c.ClientIP())
	c.Redirect(http.StatusFound, a.safeURL(flow.CallbackURL))
}

// markFlowUsed records a completed flow in the session store for the flow's
// lifetime and reports whether it was already there (a replayed callback).
func (a *App) markFlowUsed(ctx context.Context, f auth.Flow) (bool, error) {
	return a.markUsed(ctx, "flow:"+auth.FlowKey(f.State), f.Created.Add(auth.FlowMaxAge+time.Minute))
}

// markUsed remembers a one-time value (by id, until expires) in the session
// store, shared by every instance, and reports whether it had been used
// already. Two truly simultaneous first uses may both pass; what they guard
// (a single-use code, a signed token) bounds that.
func (a *App) markUsed(ctx context.Context, id string, expires time.Time) (seen bool, err error) {
	_, err = a.store.Get(ctx, id)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, session.ErrNotFound) {
		return false, err
	}
	now := a.now()
	return false, a.store.Save(ctx, &session.Record{ID: id, Created: now, LastSeen: now, Expires: expires})
}

// safeCode keeps an OAuth error code fit for a URL: the RFC 6749 charset,
// bounded. It is shown on the error page with its diagnosis.
func safeCode(code string) string {
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
func (a *App) allowed(cl *oidc.Claims) bool {
	if len(a.cfg.AllowedGroups) > 0 {
		ok := false
		for _, g := range cl.Groups {
			for _, want := range a.cfg.AllowedGroups {
				if g == want {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	if len(a.cfg.AllowedEmailDomains) > 0 {
		at := strings.LastIndexByte(cl.Email, '@')
		if at < 0 || !cl.EmailVerified {
			return false
		}
		dom := strings.ToLower(cl.Email[at+1:])
		for _, want := range a.cfg.AllowedEmailDomains {
			if dom == want {
				return true
			}
		}
		return false
	}
	return true
}

// handleSignout is POST /signout: it ends the session (loaded first, so its
// tokens are known), revokes the refresh token at the IdP (best-effort, 3 s)
// and answers the validated callbackUrl, or with federated sign-out the
// IdP's logout URL (see signoutTarget). A store fault ends nothing.
func (a *App) handleSignout(c *gin.Context) {
	body, jsonMode, ok := a.actionForm(c, "signout")
	if !ok {
		return
	}
	log := a.reqLog(c)
	ctx := c.Request.Context()
	callback := a.callbackURL(c, body) // also kept in the callback-url cookie
	token := cookieValue(c, a.names.Session)
	var (
		s   *session.Session
		err error
	)
	if token != "" {
		s, err = a.sessions.Load(ctx, token)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			a.storeUnavailable(c, err)
			return
		}
		if err := a.sessions.Delete(ctx, token); err != nil && !errors.Is(err, session.ErrNotFound) {
			a.storeUnavailable(c, err)
			return
		}
	}
	a.clearCookie(c, a.names.Session)
	to := callback
	if s != nil {
		a.revokeTokens(ctx, log, s)
		to = a.signoutTarget(ctx, log, s, callback)
		log.Info("signed out", "provider", s.Data.Provider, "sub", s.Data.Subject, "federated", to != callback)
		if to != callback && callback != a.origin && callback != a.origin+"/" {
			// The IdP returns the browser to the origin; from there it is
			// sent on to the callbackUrl (see returnAfterSignout).
			a.setCookie(c, a.names.SignoutReturn, url.QueryEscape(callback), a.now().Add(10*time.Minute))
		}
	}
	redirect(c, jsonMode, to)
}
