package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// errRevoked marks an access token whose refresh chain was revoked.
var errRevoked = errors.New("token revoked")

// oauthError is a token-endpoint error as it goes on the wire.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func oerr(code, desc string) *oauthError { return &oauthError{Code: code, Description: desc} }

// token is /oauth2/token: the authorization_code and refresh_token grants.
func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, oerr("invalid_request", "malformed form body"))
		return
	}
	var (
		resp map[string]any
		oe   *oauthError
	)
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		resp, oe = p.codeGrant(r)
	case "refresh_token":
		resp, oe = p.refreshGrant(r)
	case "":
		oe = oerr("invalid_request", "grant_type is required")
	default:
		oe = oerr("unsupported_grant_type", "")
	}
	if oe != nil {
		p.tokenError(w, oe)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// tokenError counts, logs (without tokens) and writes a 400 OAuth error.
func (p *IdP) tokenError(w http.ResponseWriter, oe *oauthError) {
	p.mu.Lock()
	p.stats.TokenErrors++
	p.mu.Unlock()
	p.log.Info("devidp token error", "error", oe.Code, "error_description", oe.Description)
	writeJSON(w, http.StatusBadRequest, oe)
}

// codeGrant exchanges a code. The code is taken out of the store before
// anything else is checked, so any failed attempt burns it (as Cognito does).
func (p *IdP) codeGrant(r *http.Request) (map[string]any, *oauthError) {
	f := r.PostForm
	p.mu.Lock()
	code, found := p.codes[f.Get("code")]
	delete(p.codes, f.Get("code"))
	p.mu.Unlock()

	c, oe := p.authenticateClient(r)
	if oe != nil {
		return nil, oe
	}
	if c.DisableCodeGrant {
		return nil, oerr("unauthorized_client", "client is not allowed the authorization_code grant")
	}
	switch {
	case !found:
		return nil, oerr("invalid_grant", "unknown or used code")
	case !p.now().Before(code.expires):
		return nil, oerr("invalid_grant", "code expired")
	case code.clientID != c.ID:
		return nil, oerr("invalid_grant", "code was issued to another client")
	case f.Get("redirect_uri") != code.redirectURI:
		return nil, oerr("unauthorized_client", "invalid_redirect")
	}
	verifier := f.Get("code_verifier")
	if code.challenge != "" {
		sum := sha256.Sum256([]byte(verifier))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if verifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(code.challenge)) != 1 {
			return nil, oerr("invalid_grant", "code_verifier does not match code_challenge")
		}
	} else if verifier != "" {
		return nil, oerr("invalid_grant", "code_verifier sent for a code without code_challenge")
	}
	p.mu.Lock()
	u, ok := p.user(code.username)
	p.mu.Unlock()
	if !ok {
		return nil, oerr("invalid_grant", "user no longer exists")
	}
	origin := randomToken()
	resp, err := p.mint(c, u, code.scope, code.nonce, origin, code.authTime)
	if err != nil {
		p.log.Error("devidp mint tokens", "error", err)
		return nil, oerr("server_error", "")
	}
	rt := randomToken()
	p.mu.Lock()
	p.refresh[rt] = &refreshGrant{
		clientID: c.ID, username: u.Username, scope: code.scope, originJTI: origin,
		authTime: code.authTime, expires: p.now().Add(p.opts.RefreshTTL),
	}
	p.stats.CodeGrants++
	p.saveLocked()
	p.mu.Unlock()
	resp["refresh_token"] = rt
	return resp, nil
}

// refreshGrant mints new access and ID tokens; a new refresh token only when
// the client rotates them (and then the old one dies at once).
func (p *IdP) refreshGrant(r *http.Request) (map[string]any, *oauthError) {
	c, oe := p.authenticateClient(r)
	if oe != nil {
		return nil, oe
	}
	old := r.PostForm.Get("refresh_token")
	p.mu.Lock()
	g, found := p.refresh[old]
	var u User
	var userOK bool
	if found {
		u, userOK = p.user(g.username)
	}
	p.mu.Unlock()
	switch {
	case !found:
		return nil, oerr("invalid_grant", "Invalid Refresh Token")
	case !p.now().Before(g.expires):
		return nil, oerr("invalid_grant", "Refresh Token has expired")
	case g.clientID != c.ID:
		return nil, oerr("invalid_grant", "Invalid Refresh Token")
	case !userOK:
		return nil, oerr("invalid_grant", "user no longer exists")
	}
	resp, err := p.mint(c, u, g.scope, "", g.originJTI, g.authTime)
	if err != nil {
		p.log.Error("devidp mint tokens", "error", err)
		return nil, oerr("server_error", "")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, still := p.refresh[old]; !still { // revoked or rotated meanwhile
		return nil, oerr("invalid_grant", "Invalid Refresh Token")
	}
	if c.RotateRefreshTokens {
		next := randomToken()
		delete(p.refresh, old)
		p.refresh[next] = &refreshGrant{
			clientID: g.clientID, username: g.username, scope: g.scope, originJTI: g.originJTI,
			authTime: g.authTime, expires: p.now().Add(p.opts.RefreshTTL),
		}
		resp["refresh_token"] = next
		p.saveLocked()
	}
	p.stats.RefreshGrants++
	return resp, nil
}

// mint signs an access token (access key) and, when scope has openid, an ID
// token (ID key). nonce is omitted when empty.
func (p *IdP) mint(c Client, u User, scope, nonce, originJTI string, authTime time.Time) (map[string]any, error) {
	now := p.now()
	access := map[string]any{
		"iss": p.issuer, "sub": u.Sub, "client_id": c.ID, "token_use": "access",
		"scope": scope, "username": u.Username, "auth_time": authTime.Unix(),
		"exp": now.Add(p.opts.AccessTTL), "iat": now, "jti": randomToken(), "origin_jti": originJTI,
	}
	if len(u.Groups) > 0 {
		access["cognito:groups"] = slices.Clone(u.Groups)
	}
	at, err := sign(p.keys.access, access)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{
		"access_token": at, "token_type": "Bearer",
		"expires_in": int64(p.opts.AccessTTL / time.Second),
	}
	if !slices.Contains(strings.Fields(scope), "openid") {
		return resp, nil
	}
	id := map[string]any{
		"iss": p.issuer, "sub": u.Sub, "aud": c.ID, "token_use": "id",
		"auth_time": authTime.Unix(), "exp": now.Add(p.opts.IDTTL), "iat": now,
		"cognito:username": u.Username, "email": u.Email, "email_verified": true,
		"jti": randomToken(), "origin_jti": originJTI,
	}
	for k, v := range map[string]string{
		"nonce": nonce, "name": u.Name, "given_name": u.GivenName,
		"family_name": u.FamilyName, "picture": u.Picture,
	} {
		if v != "" {
			id[k] = v
		}
	}
	if len(u.Groups) > 0 {
		id["cognito:groups"] = slices.Clone(u.Groups)
	}
	if resp["id_token"], err = sign(p.keys.id, id); err != nil {
		return nil, err
	}
	return resp, nil
}

// authenticateClient applies client_secret_basic or client_secret_post (not
// both). Basic credentials are form-URL-decoded (RFC 6749 2.3.1); a raw
// match is accepted too, so clients that do not escape still work. Public
// clients must send no secret.
func (p *IdP) authenticateClient(r *http.Request) (Client, *oauthError) {
	f := r.PostForm
	var id, secret, rawSecret string
	if user, pass, ok := r.BasicAuth(); ok {
		if f.Has("client_secret") {
			return Client{}, oerr("invalid_request", "more than one client authentication method")
		}
		id, secret, rawSecret = formDecode(user), formDecode(pass), pass
		if fid := f.Get("client_id"); fid != "" && fid != id {
			return Client{}, oerr("invalid_client", "client_id does not match the Authorization header")
		}
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
		rawSecret = secret
	}
	c, ok := p.clients[id]
	if !ok {
		return Client{}, oerr("invalid_client", "unknown client")
	}
	if c.Secret == "" {
		if secret != "" {
			return Client{}, oerr("invalid_client", "public client sent a client secret")
		}
		return c, nil
	}
	if !equalSecret(secret, c.Secret) && !equalSecret(rawSecret, c.Secret) {
		return Client{}, oerr("invalid_client", "Client authentication failed")
	}
	return c, nil
}

// formDecode undoes application/x-www-form-urlencoded escaping, returning s
// unchanged when it is not validly escaped.
func formDecode(s string) string {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return d
}

func equalSecret(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// revoke is /oauth2/revoke: 200 for any authenticated request with a token,
// known or not; a known refresh token of this client dies together with the
// access tokens minted from it.
func (p *IdP) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oerr("invalid_request", "malformed form body"))
		return
	}
	c, oe := p.authenticateClient(r)
	if oe != nil {
		writeJSON(w, http.StatusBadRequest, oe)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeJSON(w, http.StatusBadRequest, oerr("invalid_request", "token is required"))
		return
	}
	p.mu.Lock()
	if g, ok := p.refresh[tok]; ok && g.clientID == c.ID {
		delete(p.refresh, tok)
		p.revoked[g.originJTI] = true
		p.saveLocked()
	}
	p.revList = append(p.revList, tok)
	p.stats.Revocations++
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
