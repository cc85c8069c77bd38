package bff

import (
	"net/http"
	"slices"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
)

// Groups per route: a PROTECTED_PATHS entry "/admin*:admins|ops" needs a
// session AND membership of one of the groups; Options.UpstreamGroups the
// same for a proxied API; RequireGroups for Require. The groups are the
// session's (the provider's groups claim, refreshed with the profile).

// splitPathGroups splits a ProtectedPaths entry into its pattern and the
// groups after ":" ("|"-separated); no ":" is no group.
func splitPathGroups(entry string) (pattern string, groups []string) {
	pattern, list, ok := strings.Cut(entry, ":")
	if !ok {
		return entry, nil
	}
	for _, g := range strings.Split(list, "|") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	return pattern, groups
}

// inGroup reports whether the user's groups hold one of want; an empty
// want holds for everyone.
func inGroup(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, g := range have {
		if slices.Contains(want, g) {
			return true
		}
	}
	return false
}

// pathGroups returns the groups each ProtectedPaths pattern matching p
// requires (one list per matching pattern that names groups).
func (b *BFF) pathGroups(p string) [][]string {
	var out [][]string
	for i, pat := range b.protectedPaths {
		if len(b.protectedGroups[i]) > 0 && matchProtected(pat, p) {
			out = append(out, b.protectedGroups[i])
		}
	}
	return out
}

// allowedPath reports whether s may load the protected page of route and
// path: a member of one group of every matching pattern that names groups.
func (b *BFF) allowedPath(s *session.Session, route, path string) bool {
	for _, want := range append(b.pathGroups(route), b.pathGroups(path)...) {
		if !inGroup(s.Data.User.Groups, want) {
			return false
		}
	}
	return true
}

// denyPath answers a signed-in non-member: 403 JSON under /api, else
// NextAuth's AccessDenied page (a redirect to <base>/error?error=AccessDenied,
// which answers 403).
func (b *BFF) denyPath(w http.ResponseWriter, r *http.Request) {
	if hasPathPrefix(r.URL.Path, "/api") {
		b.refuse(w, r, nextauth.CodeForbidden, "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	b.writeError(w, r, navigation, &nextauth.Error{Code: nextauth.CodeAccessDenied,
		Message: nextauth.CodeAccessDenied.Message(), URL: b.core.ErrorURL(string(nextauth.CodeAccessDenied), nil)})
}

// RequireOption is an option of Require, Authorize and bffgin.Require.
type RequireOption func(*requireOptions)

type requireOptions struct {
	groups []string
}

// RequireGroups lets through only members of one of groups (the user's
// groups claim, see Provider.GroupsClaim); a signed-in non-member gets 403
// {"error":"forbidden"} (or Options.ErrorHandler's answer).
func RequireGroups(groups ...string) RequireOption {
	return func(o *requireOptions) { o.groups = append(o.groups, groups...) }
}

// checkGroups is Authorize's group check.
func checkGroups(s *session.Session, opts []RequireOption) error {
	if len(opts) == 0 {
		return nil
	}
	var o requireOptions
	for _, f := range opts {
		f(&o)
	}
	if len(o.groups) > 0 && !inGroup(s.Data.User.Groups, o.groups) {
		return nextauth.NewError(nextauth.CodeForbidden, "")
	}
	return nil
}

// upstreamAllowed checks what an upstream asks of the session beyond
// being signed in: one of its groups (UpstreamGroups) and its step-up
// requirement (UpstreamStepUp). Every proxy path (plain, token policy,
// WebSocket) asks it, so neither can be skipped by configuring the other;
// it answers (401, 403, or 401 insufficient_user_authentication) and
// returns false when the call must not reach the upstream. s may be nil (a
// user-or-client upstream signed out): then it passes only an upstream
// that asks nothing.
func (b *BFF) upstreamAllowed(w http.ResponseWriter, r *http.Request, name string, s *session.Session) bool {
	groups := b.cfg.UpstreamGroups[name]
	req, stepUp := b.cfg.StepUp[name]
	if len(groups) == 0 && !stepUp {
		return true
	}
	if s == nil {
		b.refuse(w, r, nextauth.CodeUnauthenticated, "")
		return false
	}
	if !inGroup(s.Data.User.Groups, groups) {
		b.refuse(w, r, nextauth.CodeForbidden, "")
		return false
	}
	return !stepUp || b.stepUpMet(w, r, s, req)
}
