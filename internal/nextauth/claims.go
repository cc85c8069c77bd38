package nextauth

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// Shaping the session: claims into session.user (AUTH_SESSION_CLAIMS),
// user.id (AUTH_SESSION_USER_ID), update()'s stored keys
// (AUTH_SESSION_UPDATABLE) and the groups claim of a provider. All of it is
// rendered once per session version (RenderSession) and cached with the
// session JSON; a session with none of it renders exactly as before.

// ClaimMap maps one claim to one field of session.user.
type ClaimMap struct {
	// Field is the session.user field ("roles").
	Field string
	// Claim is the claim's name ("cognito:groups").
	Claim string
}

// Bounds of what a session carries besides its identity.
const (
	// MaxClaimValue bounds one mapped claim's JSON; a longer one is left out.
	MaxClaimValue = 1024
	// MaxClaimsTotal bounds all session.user extra fields together.
	MaxClaimsTotal = 4096
	// MaxUpdateData bounds the JSON of all the keys update() stored.
	MaxUpdateData = 2048
)

// ReservedUserFields are session.user's own fields: no claim, hook or
// setting may write them.
var ReservedUserFields = []string{"id", "name", "email", "image", "groups"}

// ReservedSessionFields are the session JSON's own top-level fields.
var ReservedSessionFields = []string{"user", "expires", "error", "accessTokenExpires", "refreshedAt"}

// groupsOf returns the user's groups from cl under provider p's groups
// claim; has is false when cl lacks the claim.
func groupsOf(p *provider, cl *oidc.Claims) (groups []string, has bool) {
	if p == nil || p.cfg.GroupsClaim == "" {
		return cl.Groups, cl.Groups != nil
	}
	v, ok := cl.Raw[p.cfg.GroupsClaim]
	if !ok {
		return nil, false
	}
	return stringList(v), true
}

// stringList accepts an array of strings (other members skipped) or one
// string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// mapClaims returns session.user's extra fields from cl: each mapped claim
// cl has, as JSON; each one it lacks keeps its value in prev (the profile
// rule of a refresh), as do the fields no mapping names (a sign-in hook's).
// A value longer than MaxClaimValue, one shaped like a JWT, or one past
// MaxClaimsTotal is left out and logged. nil when there is nothing.
func mapClaims(log *slog.Logger, rules []ClaimMap, cl *oidc.Claims, prev map[string]string) map[string]string {
	if len(rules) == 0 {
		return prev
	}
	out := maps.Clone(prev)
	if out == nil {
		out = map[string]string{}
	}
	total := 0
	for _, m := range rules {
		v, ok := cl.Raw[m.Claim]
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		switch {
		case len(b) > MaxClaimValue:
			log.Warn("session claim left out: too long", "field", m.Field, "claim", m.Claim, "bytes", len(b), "max", MaxClaimValue)
			delete(out, m.Field)
			continue
		case looksLikeJWT(v):
			log.Warn("session claim left out: it holds a token", "field", m.Field, "claim", m.Claim)
			delete(out, m.Field)
			continue
		}
		out[m.Field] = string(b)
	}
	for _, k := range slices.Sorted(maps.Keys(out)) {
		total += len(k) + len(out[k])
		if total > MaxClaimsTotal {
			log.Warn("session claim left out: the user's extra fields are over their bound", "field", k, "max", MaxClaimsTotal)
			delete(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// looksLikeJWT reports a string shaped like a JWS or JWE: never put into a
// session JSON.
func looksLikeJWT(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") >= 2
}

// shapesSession reports whether anything beyond the base profile is
// configured (so the refresh coordinator needs the profile hook).
func (c *Core) shapesSession() bool {
	if len(c.cfg.SessionClaims) > 0 {
		return true
	}
	for _, p := range c.providers {
		if p.cfg.GroupsClaim != "" {
			return true
		}
	}
	return false
}

// refreshedProfile completes a refresh's profile: the provider's groups
// claim (kept when the refreshed claims lack it) and the mapped claims.
func (c *Core) refreshedProfile(d *session.Data, prev session.User, prevClaims map[string]string, cl *oidc.Claims) {
	if p := c.providers[d.Provider]; p != nil && p.cfg.GroupsClaim != "" {
		if g, has := groupsOf(p, cl); has {
			d.User.Groups = g
		} else {
			d.User.Groups = prev.Groups
		}
	}
	d.Claims = mapClaims(c.log, c.cfg.SessionClaims, cl, prevClaims)
}

// renderExtras adds to the session JSON b (sessionJSON's encoding of
// user u) user.id, s's session.user extra fields and its update() keys; b
// unchanged when there are none.
func (c *Core) renderExtras(b []byte, u *sessionUserJSON, s *session.Session) []byte {
	d := &s.Data
	userID := c.cfg.SessionUserID && d.User.ID != ""
	if !userID && len(d.Claims) == 0 && len(d.Extra) == 0 {
		return b
	}
	ub, err := json.Marshal(u)
	const prefix = `{"user":`
	if err != nil || !bytes.HasPrefix(b, []byte(prefix)) || !bytes.HasPrefix(b[len(prefix):], ub) {
		return b // not sessionJSON's layout: never the case
	}
	rest := b[len(prefix)+len(ub):]
	var kv [][2]string
	if userID {
		id, _ := json.Marshal(d.User.ID)
		kv = append(kv, [2]string{"id", string(id)})
	}
	user := splice(ub, append(kv, fields(d.Claims, ReservedUserFields)...))
	out := make([]byte, 0, len(b)+len(user)-len(ub)+64)
	out = append(append(append(out, prefix...), user...), rest...)
	return splice(out, fields(d.Extra, ReservedSessionFields))
}

// fields lists m's pairs in key order, without the reserved keys and
// without values that are not valid JSON.
func fields(m map[string]string, reserved []string) [][2]string {
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if slices.Contains(reserved, k) || !json.Valid([]byte(m[k])) {
			continue
		}
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

// splice adds the members kv (key, JSON text) to the JSON object obj.
func splice(obj []byte, kv [][2]string) []byte {
	if len(kv) == 0 {
		return obj
	}
	obj = bytes.TrimSpace(obj)
	out := append([]byte(nil), obj[:len(obj)-1]...)
	empty := bytes.Equal(bytes.TrimSpace(out), []byte("{"))
	for _, f := range kv {
		if !empty {
			out = append(out, ',')
		}
		empty = false
		k, _ := json.Marshal(f[0])
		out = append(out, k...)
		out = append(out, ':')
		out = append(out, f[1]...)
	}
	return append(out, '}')
}
