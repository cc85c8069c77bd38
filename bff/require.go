package bff

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
)

// apiGuard is the check every BFF fetch route makes before anything else:
// the header X-CSRF: 1 (a custom header, so a cross-site page cannot send it
// without a CORS preflight, which only CORS_ORIGINS pass) and a same-origin
// Origin / Sec-Fetch-Site. It answers 401 / 403 JSON and reports false when
// they fail.
func (b *BFF) apiGuard(w http.ResponseWriter, r *http.Request) bool {
	if err := b.checkAPI(r); err != nil {
		b.writeError(w, r, fetch, err)
		return false
	}
	return true
}

func (b *BFF) checkAPI(r *http.Request) error {
	if r.Header.Get("X-CSRF") != "1" {
		return nextauth.NewError(nextauth.CodeCSRFHeaderMissing, "")
	}
	if !b.core.SameOrigin(&nextauth.Request{Origin: r.Header.Get("Origin"), FetchSite: r.Header.Get("Sec-Fetch-Site")}) {
		return nextauth.NewError(nextauth.CodeCrossOrigin, "")
	}
	return nil
}

// apiSession runs apiGuard and loads the request's session for a BFF fetch
// route: a store fault is a 503, no session a 401 JSON (never a redirect).
// ok is false when an answer has been written.
func (b *BFF) apiSession(w http.ResponseWriter, r *http.Request) (token string, s *session.Session, ok bool) {
	token, s, err := b.loadAPISession(w, r)
	if err != nil {
		b.writeError(w, r, fetch, err)
		return "", nil, false
	}
	return token, s, true
}

// loadAPISession is apiSession's checks and load, its refusal returned
// (a *nextauth.Error) rather than answered.
func (b *BFF) loadAPISession(w http.ResponseWriter, r *http.Request) (string, *session.Session, error) {
	if err := b.checkAPI(r); err != nil {
		return "", nil, err
	}
	token, s, _, err := b.core.LoadSession(r.Context(), b.cookieRequest(w, r))
	if err != nil {
		return "", nil, err
	}
	if s == nil {
		return "", nil, nextauth.Unauthenticated("")
	}
	return token, s, nil
}

func (b *BFF) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	(&cookieJar{r: r, w: w, secure: b.cfg.Secure(), strict: b.strictCookie()}).Clear(b.core.Names().Session)
}

// Require lets a request through to next only with a live session and the
// CSRF defence the proxy uses (the header X-CSRF: 1 and a same-origin
// Origin / Sec-Fetch-Site). Otherwise it answers 401 (or 403 cross-origin)
// with JSON {"error","message"}; a session store outage is 503 with
// Retry-After and never a sign-out. Inside next, SessionFrom(r.Context())
// returns the session. With RequireGroups, a signed-in user outside the
// groups gets 403 {"error":"forbidden"}.
func (b *BFF) Require(next http.Handler, opts ...RequireOption) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := b.Authorize(w, r, opts...)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(WithSession(r.Context(), s)))
	})
}

// Authorize is Require's check for adapters: it returns the request's
// session, or writes the answer (Options.ErrorHandler's, else 401/403/503
// JSON) and returns false. opts are Require's (RequireGroups).
func (b *BFF) Authorize(w http.ResponseWriter, r *http.Request, opts ...RequireOption) (*Session, bool) {
	token, s, err := b.loadAPISession(w, r)
	if err == nil {
		err = checkGroups(s, opts)
	}
	if err != nil {
		if b.onError == nil {
			b.writeError(w, r, fetch, err)
			return nil, false
		}
		b.onError(w, r, requestError(err))
		return nil, false
	}
	return &Session{b: b, token: token, s: s, reqCtx: r.Context()}, true
}

// RequestError is a refusal of Require, given to Options.ErrorHandler:
// Status, Code and Message are what authbff would answer, from the same
// table as every other answer (401 unauthenticated or csrf_header_missing,
// 403 cross_origin, 503 session_store_unavailable); it wraps the cause,
// and a store outage also wraps ErrUnavailable (the user is still signed
// in).
type RequestError struct {
	// Status is the HTTP status authbff would answer.
	Status int
	// Code is the machine-readable error code ("unauthenticated"...).
	Code string
	// Message is the explanation authbff would send.
	Message string
	err     error
}

// Error returns the code and the message.
func (e *RequestError) Error() string { return "bff: " + e.Code + ": " + e.Message }

// Unwrap returns the cause (wrapping ErrUnavailable for a store outage).
func (e *RequestError) Unwrap() error { return e.err }

// WriteError answers err as authbff does, from the same table as every
// other answer (JSON {"error","message"}; ErrNoSession 401 with the session
// cookie cleared; a store outage, ErrUnavailable, 503 with Retry-After),
// for handlers behind Require: pass it what Session.AccessToken returned.
func (b *BFF) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	b.writeError(w, r, fetch, err)
}

// Session is the signed-in user's session inside a handler behind Require.
type Session struct {
	b      *BFF
	token  string
	reqCtx context.Context // the request's, for a ctx that cannot be cancelled
	mu     sync.Mutex
	s      *session.Session
}

// User is who is signed in.
type User struct {
	// Sub is the ID token's subject at the provider.
	Sub string
	// Provider is the provider id the user signed in with (e.g. "cognito").
	Provider string
	// Issuer is the provider's issuer.
	Issuer string
	// Name, Email and Image are the profile NextAuth's session shows.
	Name, Email, Image string
	// Groups are the user's groups (cognito:groups or groups, or the
	// provider's GroupsClaim), if any.
	Groups []string
	// Fields are session.user's extra fields (SessionClaims, a sign-in
	// hook's), as JSON.
	Fields map[string]json.RawMessage
}

// contextKey is the type of the keys bff puts in a context: a pointer, so
// no other package's key can equal it.
type contextKey struct{ name string }

// SessionContextKey is the key under which Require puts the *Session in
// the request's context, and bffgin.Require also in the *gin.Context's
// keys (c.Set), so SessionFrom finds it on either.
var SessionContextKey = &contextKey{"bff.Session"}

// WithSession returns ctx carrying s (what Require does).
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, SessionContextKey, s)
}

// keyGetter is a context that also keeps per-request keys outside its
// Value chain (a *gin.Context without ContextWithFallback).
type keyGetter interface {
	Get(key any) (value any, exists bool)
}

// SessionFrom returns the session Require (or bffgin.Require) let through:
// from r.Context(), or from a *gin.Context (on any Gin engine).
func SessionFrom(ctx context.Context) (*Session, bool) {
	if s, ok := ctx.Value(SessionContextKey).(*Session); ok && s != nil {
		return s, true
	}
	if g, ok := ctx.(keyGetter); ok {
		if v, found := g.Get(SessionContextKey); found {
			if s, ok := v.(*Session); ok && s != nil {
				return s, true
			}
		}
	}
	return nil, false
}

// User returns the signed-in user.
func (s *Session) User() User {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.s.Data
	u := userOf(d.Provider, d.Subject, d.User, d.Claims)
	u.Issuer = d.Issuer
	return u
}

// Expires returns when the session ends unless it is used again.
func (s *Session) Expires() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.Expires
}

// AccessToken returns the session's current access token for calling an
// API as the user, refreshed at the IdP first when it is due (one refresh
// per session at a time, across every instance sharing the store, exactly
// as the proxy does). ErrNoSession: the session has ended (the IdP refused
// the refresh): answer 401. ErrAccessTokenExpired: the token expired and
// there is no refresh token: answer 401 too. An error wrapping ErrUnavailable: the store
// cannot be reached: answer 503 and keep the user signed in. WriteError
// answers both.
//
// ctx should be the request's context (r.Context(), or c.Request.Context()
// in Gin). A ctx that can never be cancelled - such as a *gin.Context on an
// engine without ContextWithFallback - is replaced by the context of the
// request Require let through, so a client that goes away still cancels
// the refresh.
func (s *Session) AccessToken(ctx context.Context) (string, error) {
	if ctx.Done() == nil && s.reqCtx != nil {
		ctx = s.reqCtx
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	access, s2, err := s.b.core.AccessToken(ctx, s.token, s.s)
	if err != nil {
		var e *nextauth.Error
		switch {
		case nextauth.SessionEnded(err):
			return "", ErrNoSession
		case nextauth.IsUnavailable(err):
			return "", errors.Join(ErrUnavailable, err)
		case errors.As(err, &e) && e.Code == nextauth.CodeAccessTokenExpired:
			return "", errors.Join(ErrAccessTokenExpired, err)
		}
		return "", err
	}
	s.s = s2
	return access, nil
}
