package bff

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
)

// answerMode is how a request wants an error answered.
type answerMode int

const (
	// fetch: JSON {"error","message"} with its code's status (errors.go).
	fetch answerMode = iota
	// navigation: a browser navigation; a redirect, or an HTML page.
	navigation
	// jsonURL: the next-auth client's json mode, 200 {"url"} when the error
	// carries a URL.
	jsonURL
)

// writeJSON writes v as JSON; noStore adds Cache-Control: no-store.
func writeJSON(w http.ResponseWriter, status int, v any, noStore bool) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if noStore {
		h.Set("Cache-Control", "no-store")
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeCode(w, nextauth.CodeInternal)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeRawJSON writes an already encoded JSON body.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = valJSON
	h["X-Content-Type-Options"] = valNosniff
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeURL answers {url} (the client's JSON mode).
func writeURL(w http.ResponseWriter, to string) {
	writeJSON(w, http.StatusOK, map[string]string{"url": to}, true)
}

// redirect answers {url} (JSON mode) or a 302 to an absolute URL.
func redirect(w http.ResponseWriter, r *http.Request, mode answerMode, to string) {
	if mode == jsonURL {
		writeURL(w, to)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// Header values shared by every answer (read-only; len == cap, so a later
// Add to the same header copies instead of writing into them): setting a
// fixed value then costs no allocation on the hot paths.
var (
	valNoCache  = []string{"private, no-cache, no-store"}
	valPragma   = []string{"no-cache"}
	valExpires0 = []string{"0"}
	valJSON     = []string{"application/json; charset=utf-8"}
	valNosniff  = []string{"nosniff"}
)

// noCache sets the headers NextAuth sends on /csrf and /session.
func noCache(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"] = valNoCache
	h["Pragma"] = valPragma
	h["Expires"] = valExpires0
}

// cookieJar is nextauth.Cookies on a request and its response.
type cookieJar struct {
	r      *http.Request
	w      http.ResponseWriter
	secure bool
	strict string // the cookie sent SameSite=Strict (cookies_sec.go), "" none
}

func (j *cookieJar) Get(name string) string { return cookieValue(j.r, name) }

// cookieValue is r.Cookie(name).Value without parsing every cookie into
// structs (the session read does this on every request): the first
// "name=value" pair of the Cookie headers, value unquoted, "" when absent
// or not a valid cookie value.
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
					return ""
				}
			}
			return v
		}
	}
	return ""
}

func (j *cookieJar) Names() []string {
	cs := j.r.Cookies()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// Set writes one of authbff's cookies with the contract's attributes:
// HttpOnly, SameSite=Lax, Path=/, Secure on https, no Domain. A zero
// expires makes a browser-session cookie.
func (j *cookieJar) Set(name, value string, expires time.Time) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true,
		Secure: j.secure, SameSite: j.sameSite(name),
	}
	if !expires.IsZero() {
		ck.Expires = expires.UTC()
		ck.MaxAge = int(time.Until(expires).Seconds())
		if ck.MaxAge <= 0 {
			ck.MaxAge = 1
		}
	}
	http.SetCookie(j.w, ck)
}

// Clear deletes a cookie: empty value, Max-Age=0, same attributes.
func (j *cookieJar) Clear(name string) {
	http.SetCookie(j.w, &http.Cookie{
		Name: name, Value: "", Path: "/", HttpOnly: true, MaxAge: -1,
		Secure: j.secure, SameSite: j.sameSite(name),
	})
}

// request is the core's view of r.
func (b *BFF) request(w http.ResponseWriter, r *http.Request) *nextauth.Request {
	return &nextauth.Request{
		Cookies:   &cookieJar{r: r, w: w, secure: b.cfg.Secure(), strict: b.strictCookie()},
		Origin:    r.Header.Get("Origin"),
		FetchSite: r.Header.Get("Sec-Fetch-Site"),
		UserAgent: r.Header.Get("User-Agent"),
		ClientIP:  b.trusted.clientIP(r),
		Query:     r.URL.Query(),
		RequestID: w.Header().Get("X-Request-Id"),
		TraceID:   traceOf(w, r).TraceID.String(),
	}
}

// cookieView is a nextauth.Request and its cookie jar in one allocation.
type cookieView struct {
	req nextauth.Request
	jar cookieJar
}

// cookieRequest is the core's view of r for a session read: the cookies
// only (cheaper than request on the hot paths).
func (b *BFF) cookieRequest(w http.ResponseWriter, r *http.Request) *nextauth.Request {
	v := &cookieView{jar: cookieJar{r: r, w: w, secure: b.cfg.Secure(), strict: b.strictCookie()}}
	v.req.Cookies = &v.jar
	if sw, ok := w.(*statusWriter); ok {
		v.req.RequestID = sw.id
	} else {
		v.req.RequestID = w.Header().Get("X-Request-Id")
	}
	return &v.req
}
