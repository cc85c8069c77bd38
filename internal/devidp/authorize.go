package devidp

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// authRequest is a validated authorize request (from the query, or from the
// login form's hidden fields).
type authRequest struct {
	clientID, redirectURI, responseType, state, nonce, scope string
	challenge, challengeMethod                               string
}

// defaultScope is what Cognito grants when the request names no scope: all
// the client's scopes, here the usual three.
const defaultScope = "openid email profile"

// parseAuthRequest validates v. A non-nil page means the request must NOT
// redirect (unknown client, unregistered redirect_uri); a non-empty
// redirectErr is an OAuth error to send back to the (valid) redirect_uri.
func (p *IdP) parseAuthRequest(v url.Values) (req authRequest, page *errorPage, redirectErr string) {
	req = authRequest{
		clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"),
		responseType: v.Get("response_type"), state: v.Get("state"), nonce: v.Get("nonce"),
		scope: v.Get("scope"), challenge: v.Get("code_challenge"),
		challengeMethod: v.Get("code_challenge_method"),
	}
	c, ok := p.clients[req.clientID]
	if !ok {
		return req, &errorPage{
			Code:    "invalid_client",
			Message: "The client_id of this sign-in request is not an app client of this user pool.",
			Fix:     "Set the app's client id to one of the development IdP's configured clients.",
		}, ""
	}
	if !slices.Contains(c.RedirectURIs, req.redirectURI) {
		return req, &errorPage{
			Code:    "redirect_mismatch",
			Message: "The redirect_uri " + quote(req.redirectURI) + " is not one of the client's allowed callback URLs.",
			Fix:     "Add the exact URL (a trailing slash matters) to the client's allowed callback URLs, or fix the app's base URL.",
		}, ""
	}
	if req.responseType != "code" {
		return req, nil, "unsupported_response_type"
	}
	if (req.challenge != "" && req.challengeMethod != "S256") || (req.challenge == "" && req.challengeMethod != "") {
		return req, nil, "invalid_request"
	}
	if req.scope == "" {
		req.scope = defaultScope
	}
	return req, nil, ""
}

// authorize is /oauth2/authorize: silent SSO with a live hosted-UI session
// (unless prompt=login), else the login page.
func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, page, rerr := p.parseAuthRequest(q)
	if page != nil {
		p.log.Info("devidp authorize rejected", "error", page.Code, "client_id", req.clientID)
		p.renderError(w, http.StatusBadRequest, page)
		return
	}
	if rerr != "" {
		p.redirectBack(w, r, req, url.Values{"error": {rerr}})
		return
	}
	p.mu.Lock()
	p.stats.Authorizes++
	p.mu.Unlock()
	prompt := q.Get("prompt")
	if prompt != "login" {
		if s, ok := p.liveSession(r); ok {
			code := p.issueCode(req, s.username, s.authTime)
			p.redirectBack(w, r, req, url.Values{"code": {code}})
			return
		}
		if prompt == "none" {
			p.redirectBack(w, r, req, url.Values{"error": {"login_required"}})
			return
		}
	}
	p.renderLogin(w, r, req)
}

// login is POST /login from the login page: it re-validates the request,
// starts a hosted-UI session and sends a code back.
func (p *IdP) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, &errorPage{Code: "invalid_request", Message: "The sign-in form could not be read.", Fix: "Start the sign-in again from the app."})
		return
	}
	req, page, rerr := p.parseAuthRequest(r.PostForm)
	if page != nil {
		p.renderError(w, http.StatusBadRequest, page)
		return
	}
	if rerr != "" {
		p.redirectBack(w, r, req, url.Values{"error": {rerr}})
		return
	}
	username := r.PostForm.Get("username")
	p.mu.Lock()
	_, ok := p.user(username)
	p.mu.Unlock()
	if !ok {
		p.renderError(w, http.StatusBadRequest, &errorPage{Code: "unknown_user", Message: "There is no user " + quote(username) + " in this pool.", Fix: "Pick one of the listed demo users."})
		return
	}
	now := p.now()
	id := randomToken()
	p.mu.Lock()
	p.sessions[id] = &idpSession{username: username, authTime: now, expires: now.Add(sessionTTL)}
	p.mu.Unlock()
	http.SetCookie(w, p.sessionCookie(id, int(sessionTTL/time.Second)))
	p.log.Info("devidp login", "username", username, "client_id", req.clientID)
	p.redirectBack(w, r, req, url.Values{"code": {p.issueCode(req, username, now)}})
}

// logout is Cognito's /logout: logout_uri must exactly match one of the
// client's sign-out URLs; it ends the hosted-UI session and redirects there.
func (p *IdP) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := p.clients[q.Get("client_id")]
	if !ok {
		p.renderError(w, http.StatusBadRequest, &errorPage{Code: "invalid_client", Message: "The client_id of this sign-out request is not an app client of this user pool.", Fix: "Send the app's client id as client_id."})
		return
	}
	target := q.Get("logout_uri")
	if !slices.Contains(c.LogoutURLs, target) {
		p.renderError(w, http.StatusBadRequest, &errorPage{
			Code:    "logout_mismatch",
			Message: "The logout_uri " + quote(target) + " is not one of the client's allowed sign-out URLs.",
			Fix:     "Add the exact URL to the client's allowed sign-out URLs.",
		})
		return
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, ck.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, p.sessionCookie("", -1))
	p.mu.Lock()
	p.stats.Logouts++
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// liveSession returns the unexpired hosted-UI session of the request whose
// user still exists.
func (p *IdP) liveSession(r *http.Request) (idpSession, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return idpSession{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[ck.Value]
	if !ok {
		return idpSession{}, false
	}
	if !p.now().Before(s.expires) {
		delete(p.sessions, ck.Value)
		return idpSession{}, false
	}
	if _, ok := p.user(s.username); !ok {
		return idpSession{}, false
	}
	return *s, true
}

// sessionCookie builds the hosted-UI cookie; maxAge < 0 deletes it.
func (p *IdP) sessionCookie(value string, maxAge int) *http.Cookie {
	path := p.basePath
	if path == "" {
		path = "/"
	}
	return &http.Cookie{
		Name: sessionCookie, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.base.Scheme == "https",
	}
}

// issueCode stores a single-use code bound to the request and user.
func (p *IdP) issueCode(req authRequest, username string, authTime time.Time) string {
	code := randomToken()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for k, c := range p.codes { // drop expired codes so the map stays small
		if !now.Before(c.expires) {
			delete(p.codes, k)
		}
	}
	p.codes[code] = &authCode{
		clientID: req.clientID, redirectURI: req.redirectURI, challenge: req.challenge,
		nonce: req.nonce, scope: req.scope, username: username,
		authTime: authTime, expires: now.Add(codeTTL),
	}
	return code
}

// redirectBack sends params (plus state, when there is one) to the request's
// registered redirect_uri. Cognito adds no iss parameter.
func (p *IdP) redirectBack(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		p.renderError(w, http.StatusBadRequest, &errorPage{Code: "invalid_request", Message: "The redirect_uri is not a valid URL.", Fix: "Register a valid callback URL."})
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if req.state != "" {
		q.Set("state", req.state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// randomToken returns 256 random bits, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// quote wraps s in quotes for messages (the template escapes it).
func quote(s string) string { return "\u201c" + s + "\u201d" }
