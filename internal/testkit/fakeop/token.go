package fakeop

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

func (f *OP) tokenError(w http.ResponseWriter, status int, code, desc string) {
	f.mu.Lock()
	f.stats.TokenErrors++
	f.mu.Unlock()
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake-op"`)
	}
	WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// clientOK checks the client's credentials: client_secret_post, and also
// client_secret_basic unless the OP is Cognito-shaped.
func (f *OP) clientOK(r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	if basic && !f.Opts.Cognito {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	f.mu.Lock()
	want := f.Secret
	f.mu.Unlock()
	return id == f.ClientID && secret == want
}

// SetSecret rotates the client secret the token endpoint accepts: the old
// one is refused from now on.
func (f *OP) SetSecret(secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Secret = secret
}

func (f *OP) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.stats.Calls++
	forced, mutate := f.TokenError, f.Mutate
	f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		f.tokenError(w, 400, "invalid_request", "fake op says invalid_request")
		return
	}
	if forced != "" {
		f.tokenError(w, 400, forced, "forced by the test")
		return
	}
	if !f.clientOK(r) {
		if f.Opts.Cognito {
			f.tokenError(w, 400, "invalid_client", "fake op says invalid_client")
		} else {
			f.tokenError(w, http.StatusUnauthorized, "invalid_client", "fake op says invalid_client")
		}
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": f.Issuer(), "sub": f.Sub, "aud": f.ClientID, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	if f.Opts.Cognito {
		claims["token_use"], claims["cognito:username"] = "id", "ada"
	}
	if !f.Opts.UserInfoProfile {
		claims["name"], claims["email"], claims["email_verified"] = f.Name, f.Email, true
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(f.Opts.AccessTTL / time.Second)}
	grant := r.PostForm.Get("grant_type")
	if f.Opts.Cognito && grant == "" {
		grant = "authorization_code"
	}
	switch grant {
	case "authorization_code":
		f.mu.Lock()
		c, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		f.mu.Unlock()
		if !ok || c.redirect != r.PostForm.Get("redirect_uri") || PKCES256(r.PostForm.Get("code_verifier")) != c.challenge {
			f.tokenError(w, 400, "invalid_grant", "fake op says invalid_grant")
			return
		}
		claims["nonce"] = c.nonce
		var idt string
		if mutate != nil {
			idt = mutate(claims)
		}
		if idt == "" {
			idt = f.Sign(claims)
		}
		resp["id_token"] = idt
		f.mu.Lock()
		f.stats.CodeGrants++
		f.mu.Unlock()
	case "refresh_token":
		f.mu.Lock()
		ok := f.refresh[r.PostForm.Get("refresh_token")]
		f.mu.Unlock()
		if !ok {
			f.tokenError(w, 400, "invalid_grant", "fake op says invalid_grant")
			return
		}
		if f.Opts.RefreshIDToken {
			resp["id_token"] = f.Sign(claims)
		}
		f.mu.Lock()
		f.stats.RefreshGrants++
		f.mu.Unlock()
	default:
		f.tokenError(w, 400, "unsupported_grant_type", "fake op says unsupported_grant_type")
		return
	}
	at := "op-at-" + RandHex(16)
	if f.Opts.Cognito {
		at = "AT-" + RandHex(24)
	}
	resp["access_token"] = at
	f.mu.Lock()
	f.access[at] = true
	if idt, ok := resp["id_token"].(string); ok {
		f.issued = append(f.issued, idt)
	}
	f.issued = append(f.issued, at)
	if !f.Opts.NoRefreshToken {
		rt := "op-rt-" + RandHex(16)
		if f.Opts.Cognito {
			rt = "RT-" + RandHex(24)
		}
		f.refresh[rt] = true
		resp["refresh_token"] = rt
		f.issued = append(f.issued, rt)
	}
	f.mu.Unlock()
	WriteJSON(w, 200, resp)
}

func (f *OP) userinfo(w http.ResponseWriter, r *http.Request) {
	at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ok := f.access[at]
	if ok {
		f.stats.UserInfo++
	}
	f.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		WriteJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	WriteJSON(w, 200, map[string]any{"sub": f.Sub, "name": f.Name, "email": f.Email, "email_verified": true})
}
