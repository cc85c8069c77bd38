package devidp

import (
	"net/http"
	"strings"
)

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// userInfo is /oauth2/userInfo. Like Cognito it answers email_verified as the
// STRING "true" and leaves out attributes the user lacks.
func (p *IdP) userInfo(w http.ResponseWriter, r *http.Request) {
	claims, err := p.verifyAccess(r.Context(), bearerToken(r))
	if err != nil {
		p.log.Info("devidp userInfo rejected", "error", err)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="Access token is not valid"`)
		writeJSON(w, http.StatusUnauthorized, oerr("invalid_token", "Access token is not valid"))
		return
	}
	username, _ := claims["username"].(string)
	p.mu.Lock()
	u, ok := p.user(username)
	p.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="User does not exist"`)
		writeJSON(w, http.StatusUnauthorized, oerr("invalid_token", "User does not exist"))
		return
	}
	out := map[string]any{"sub": u.Sub, "username": u.Username}
	for k, v := range map[string]string{
		"email": u.Email, "name": u.Name, "given_name": u.GivenName,
		"family_name": u.FamilyName, "picture": u.Picture,
	} {
		if v != "" {
			out[k] = v
		}
	}
	if u.Email != "" {
		out["email_verified"] = "true"
	}
	writeJSON(w, http.StatusOK, out)
}

// demoAPI is /demo-api/me, a protected upstream API for the BFF's proxy: a
// valid access token gets its claims echoed back.
func (p *IdP) demoAPI(w http.ResponseWriter, r *http.Request) {
	claims, err := p.verifyAccess(r.Context(), bearerToken(r))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "a valid access token is required"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Hello from the demo API", "claims": claims})
}
