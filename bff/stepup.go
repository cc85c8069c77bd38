package bff

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
)

// StepUp is the authentication a route requires of the session (RFC 9470):
// the ID token's acr at sign-in one of ACR, and the sign-in's auth_time at
// most MaxAge ago. A session that falls short gets 401
// {"error":"insufficient_user_authentication","acr_values":"...","max_age":N}
// with WWW-Authenticate: Bearer error="insufficient_user_authentication",
// acr_values="...", max_age=N; the SPA then calls
// signIn(id, {callbackUrl}, {acr_values, max_age}) and retries.
type StepUp struct {
	// ACR lists the acceptable acr values (any one); empty: any.
	ACR []string
	// MaxAge is the longest time since the user last authenticated; 0: any.
	MaxAge time.Duration
}

func (s StepUp) core() nextauth.StepUp { return nextauth.StepUp{ACR: s.ACR, MaxAge: s.MaxAge} }

// resolveStepUps checks Options.UpstreamStepUp against the upstreams.
func resolveStepUps(p *problems, in map[string]StepUp, upstreams map[string]*url.URL) map[string]nextauth.StepUp {
	out := map[string]nextauth.StepUp{}
	for name, su := range in {
		field := fmt.Sprintf("UpstreamStepUp[%q]", name)
		if upstreams[strings.ToLower(name)] == nil {
			p.add(field, ": no upstream has this name: configure it in Upstreams")
			continue
		}
		if su.MaxAge < 0 || su.MaxAge > 0 && su.MaxAge < time.Second {
			p.add(field+".MaxAge", " %s: give whole seconds, or 0 for any", su.MaxAge)
		}
		for i, a := range su.ACR {
			if a == "" || strings.ContainsAny(a, " \t\"\\") {
				p.add(fmt.Sprintf("%s.ACR[%d]", field, i), " %q: an acr value has no spaces or quotes", a)
			}
		}
		if c := su.core(); !c.IsZero() {
			out[strings.ToLower(name)] = c
		}
	}
	return out
}

// stepUpMet answers a session that does not meet req (and returns false).
func (b *BFF) stepUpMet(w http.ResponseWriter, r *http.Request, s *session.Session, req nextauth.StepUp) bool {
	if e := b.core.StepUpError(s, req); e != nil {
		b.writeError(w, r, fetch, e)
		return false
	}
	return true
}

// RequireStepUp is Require with a step-up requirement: the session must
// also meet req (else 401 insufficient_user_authentication, next not
// called; Options.ErrorHandler answers it when set).
func (b *BFF) RequireStepUp(req StepUp, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := b.AuthorizeStepUp(w, r, req)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(WithSession(r.Context(), s)))
	})
}

// AuthorizeStepUp is Authorize with a step-up requirement, for adapters
// (bffgin.RequireStepUp).
func (b *BFF) AuthorizeStepUp(w http.ResponseWriter, r *http.Request, req StepUp) (*Session, bool) {
	s, ok := b.Authorize(w, r)
	if !ok {
		return nil, false
	}
	if e := b.core.StepUpError(s.s, req.core()); e != nil {
		if b.onError != nil {
			b.onError(w, r, requestError(e))
			return nil, false
		}
		b.writeError(w, r, fetch, e)
		return nil, false
	}
	return s, true
}
