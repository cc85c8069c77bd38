package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

const maxFormBytes = 64 << 10

// readBody parses a form-urlencoded or JSON object body (NextAuth's client
// sends either) into url.Values; nested JSON values are kept as raw JSON.
func readBody(c *gin.Context) (url.Values, error) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}, nil
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxFormBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&obj); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read body: invalid JSON: %w", err)
		}
		v := url.Values{}
		for k, raw := range obj {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				v.Set(k, s)
			} else {
				v.Set(k, string(raw))
			}
		}
		return v, nil
	case "application/x-www-form-urlencoded", "":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("read body: invalid form: %w", err)
		}
		return v, nil
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxFormBytes); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return r.PostForm, nil
	}
	return nil, fmt.Errorf("read body: unsupported Content-Type %q (send a form or JSON)", mt)
}

// wantsJSON reports whether the client asked for {url} instead of a redirect:
// v4 sends json=true in the body, v5 the X-Auth-Return-Redirect header.
func wantsJSON(c *gin.Context, body url.Values) bool {
	return body.Get("json") == "true" || c.GetHeader("X-Auth-Return-Redirect") == "1"
}

// redirect answers {url} (JSON mode) or a 302 to an absolute URL.
func redirect(c *gin.Context, jsonMode bool, to string) {
	if jsonMode {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"url": to})
		return
	}
	c.Redirect(http.StatusFound, to)
}

// sameOriginPost checks Origin (or, without it, Sec-Fetch-Site) on a
// state-changing request: a cross-site browser POST is refused even before the
// CSRF token is looked at. Non-browser clients send neither header.
func (a *App) sameOriginPost(c *gin.Context) bool {
	if o := c.GetHeader("Origin"); o != "" {
		if o == a.origin {
			return true
		}
		for _, allowed := range a.cfg.CORSOrigins {
			if o == allowed {
				return true
			}
		}
		return false
	}
	switch c.GetHeader("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	return true
}

// csrfOK is the full check for NextAuth's POSTs: same origin and the body's
// csrfToken equal to the CSRF cookie's token.
func (a *App) csrfOK(c *gin.Context, body url.Values) bool {
	return a.sameOriginPost(c) && a.csrf.Valid(cookieValue(c, a.names.CSRF), body.Get("csrfToken"))
}

// csrfToken returns the request's valid CSRF token, minting one and setting
// the cookie when the request had none.
func (a *App) csrfToken(c *gin.Context) string {
	if tok, ok := a.csrf.FromCookie(cookieValue(c, a.names.CSRF)); ok {
		return tok
	}
	tok, val := a.csrf.Mint()
	a.setCookie(c, a.names.CSRF, val, timeZero)
	return tok
}

// callbackURL resolves callbackUrl from body, query, cookie, then the
// origin, validates it, and writes it back to the callback-url cookie when
// it changed.
func (a *App) callbackURL(c *gin.Context, body url.Values) string {
	raw := body.Get("callbackUrl")
	if raw == "" {
		raw = c.Query("callbackUrl")
	}
	cookie, _ := url.QueryUnescape(cookieValue(c, a.names.CallbackURL))
	if raw == "" {
		raw = cookie
	}
	safe := a.safeURL(raw)
	if safe != cookie {
		a.setCookie(c, a.names.CallbackURL, url.QueryEscape(safe), timeZero)
	}
	return safe
}
