package nextauth

import (
	"log/slog"

	"github.com/authbff/authbff/internal/auth"
	"net/url"
	"time"
)

// Cookies is a request's cookie jar as the core sees it: reads come from
// the request, writes go to the response. Set uses the contract's
// attributes (HttpOnly, SameSite=Lax, Path=/, Secure on https); a zero
// expires makes a browser-session cookie.
type Cookies interface {
	// Get returns the request's cookie value, "" when absent.
	Get(name string) string
	// Names lists the request's cookie names (for the per-flow cookies).
	Names() []string
	// Set writes a cookie into the response.
	Set(name, value string, expires time.Time)
	// Clear deletes a cookie in the response.
	Clear(name string)
}

// Request is what the use cases need of an HTTP request.
type Request struct {
	// Cookies reads and writes the browser's cookies.
	Cookies Cookies
	// Origin and FetchSite are the Origin and Sec-Fetch-Site headers.
	Origin, FetchSite string
	// UserAgent is the User-Agent header.
	UserAgent string
	// ClientIP is the client's address (TRUSTED_PROXIES applied), for logs.
	ClientIP string
	// Query is the URL query.
	Query url.Values
	// RequestID and TraceID identify the request on every log line.
	RequestID, TraceID string
}

// logger returns the request-scoped logger (made on use: most requests log
// nothing).
func (c *Core) logger(r *Request) *slog.Logger {
	switch {
	case r.RequestID != "" && r.TraceID != "":
		return c.log.With("request_id", r.RequestID, "trace_id", r.TraceID)
	case r.RequestID != "":
		return c.log.With("request_id", r.RequestID)
	}
	return c.log
}

// RequestLogger returns the logger of a request (request id and trace id added).
func (c *Core) RequestLogger(r *Request) *slog.Logger { return c.logger(r) }

// SameOrigin checks Origin (or, without it, Sec-Fetch-Site) of a
// state-changing request against NEXTAUTH_URL's origin and CORS_ORIGINS: a
// cross-site browser request is refused even before the CSRF token is
// looked at. Non-browser clients send neither header.
func (c *Core) SameOrigin(r *Request) bool {
	if o := r.Origin; o != "" {
		if o == c.origin {
			return true
		}
		for _, allowed := range c.cfg.CORSOrigins {
			if o == allowed {
				return true
			}
		}
		return false
	}
	switch r.FetchSite {
	case "cross-site", "same-site":
		return false
	}
	return true
}

// csrfOK is the full check for NextAuth's POSTs: same origin and the body's
// csrfToken equal to the CSRF cookie's token.
func (c *Core) csrfOK(r *Request, body url.Values) bool {
	return c.SameOrigin(r) && c.csrf.Load().Valid(r.Cookies.Get(c.names.CSRF), body.Get("csrfToken"))
}

// CheckForm is the check of POST /signin/:provider and /signout: a
// readable body (readErr nil), a valid CSRF token and a same-origin
// request. On failure it returns the *Error whose URL is the flavour's CSRF
// failure URL; nothing has been changed.
func (c *Core) CheckForm(r *Request, action string, body url.Values, readErr error) error {
	if readErr != nil || !c.csrfOK(r, body) {
		c.logger(r).Info(action+" refused: unreadable body, missing or invalid CSRF token, or cross-site origin", "err", readErr)
		return &Error{Code: CodeMissingCSRF, Message: "invalid or missing CSRF token", URL: c.csrfFailURL(action)}
	}
	return nil
}

// CheckUpdate is the check of POST /session (update()): a readable body with
// a valid CSRF token from the same origin.
func (c *Core) CheckUpdate(r *Request, body url.Values, readErr error) bool {
	return readErr == nil && c.csrfOK(r, body)
}

// csrfFailURL is where a POST with a bad CSRF token is sent.
func (c *Core) csrfFailURL(action string) string {
	if c.flavor == auth.FlavorV5 {
		return c.base + "/signin?error=MissingCSRF"
	}
	return c.base + "/" + action + "?csrf=true"
}

// CSRFToken returns the request's valid CSRF token, minting one and setting
// the cookie when the request had none.
func (c *Core) CSRFToken(r *Request) string {
	if tok, ok := c.csrf.Load().FromCookie(r.Cookies.Get(c.names.CSRF)); ok {
		return tok
	}
	tok, val := c.csrf.Load().Mint()
	r.Cookies.Set(c.names.CSRF, val, time.Time{})
	return tok
}

// CallbackURL resolves callbackUrl from body, query, cookie, then the
// origin, validates it, and writes it back to the callback-url cookie when
// it changed.
func (c *Core) CallbackURL(r *Request, body url.Values) string {
	raw := body.Get("callbackUrl")
	if raw == "" {
		raw = r.Query.Get("callbackUrl")
	}
	cookie, _ := url.QueryUnescape(r.Cookies.Get(c.names.CallbackURL))
	if raw == "" {
		raw = cookie
	}
	safe := c.SafeURL(raw)
	if safe != cookie {
		r.Cookies.Set(c.names.CallbackURL, url.QueryEscape(safe), time.Time{})
	}
	return safe
}

// ErrorURL is the absolute error page URL for an internal (v4) code, in the
// flavour's vocabulary. extra carries the provider's error code for the
// diagnosis (never a description, never a token).
func (c *Core) ErrorURL(code string, extra url.Values) string {
	q := url.Values{"error": {auth.ClientCode(c.flavor, code)}}
	for k, v := range extra {
		q[k] = v
	}
	return c.base + "/error?" + q.Encode()
}
