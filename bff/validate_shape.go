package bff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
)

// resolveShape checks what shapes the session JSON: SessionClaims,
// SessionUserID, SessionUpdatable and the hooks.
func (o Options) resolveShape(s *settings, p *problems) {
	for _, field := range slices.Sorted(maps.Keys(o.SessionClaims)) {
		claim := strings.TrimSpace(o.SessionClaims[field])
		path := fmt.Sprintf("SessionClaims[%q]", field)
		switch {
		case !jsIdent(field):
			p.add(path, ": the field name must be letters, digits and _ (not starting with a digit), e.g. roles")
		case slices.Contains(nextauth.ReservedUserFields, field):
			p.add(path, ": %s is session.user's own field and cannot be mapped (use SessionUserID for id, SessionGroups for groups)", field)
		case claim == "":
			p.add(path, " is empty: name the claim, e.g. cognito:groups")
		default:
			s.SessionClaims = append(s.SessionClaims, nextauth.ClaimMap{Field: field, Claim: claim})
		}
	}
	s.SessionUserID = o.SessionUserID
	seen := map[string]bool{}
	for i, k := range o.SessionUpdatable {
		path := fmt.Sprintf("SessionUpdatable[%d]", i)
		switch {
		case !jsIdent(k):
			p.add(path, " %q: a key is letters, digits and _ (not starting with a digit), e.g. theme", k)
		case slices.Contains(nextauth.ReservedSessionFields, k):
			p.add(path, " %q is the session JSON's own field: update() can never write it", k)
		case !seen[k]:
			seen[k] = true
			s.SessionUpdatable = append(s.SessionUpdatable, k)
		}
	}
	s.Hooks = o.hooks()
	for i, entry := range o.ProtectedPaths {
		if pat, groups := splitPathGroups(entry); pat != entry && len(groups) == 0 {
			p.add(fmt.Sprintf("ProtectedPaths[%d]", i), " %q has a \":\" but no group: write /admin*:admins|ops, or drop the \":\"", entry)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o.UpstreamGroups)) {
		key := strings.ToLower(name)
		path := fmt.Sprintf("UpstreamGroups[%q]", name)
		if _, ok := s.Upstreams[key]; !ok && !(o.DevIdP && key == "demo") {
			p.add(path, ": no such upstream in Upstreams")
			continue
		}
		var groups []string
		for _, g := range o.UpstreamGroups[name] {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
		if len(groups) == 0 {
			p.add(path, " is empty: list the groups, or remove the entry")
			continue
		}
		if s.UpstreamGroups == nil {
			s.UpstreamGroups = map[string][]string{}
		}
		s.UpstreamGroups[key] = groups
	}
}

// jsIdent reports a plain identifier: ASCII letters, digits and _, not
// starting with a digit, at most 64 bytes.
func jsIdent(k string) bool {
	if k == "" || len(k) > 64 || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
