package config

import (
	"fmt"
	"strings"
)

// sessionShape fills SessionClaims, SessionUserID, SessionUpdatable and
// each provider's GroupsClaim (it runs after providers). The field names
// themselves are checked by bff's Options validation.
func (l *loader) sessionShape(c *Config) {
	if s := l.env.get("AUTH_SESSION_CLAIMS"); s != "" {
		c.SessionClaims = map[string]string{}
		for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
			field, claim, ok := strings.Cut(item, "=")
			field, claim = strings.TrimSpace(field), strings.TrimSpace(claim)
			if !ok || field == "" || claim == "" {
				l.probs.add("AUTH_SESSION_CLAIMS", fmt.Sprintf("%q is not field=claim", item),
					`list field=claim pairs separated by spaces or commas, e.g. "roles=cognito:groups tenant=custom:tenant_id"`)
				continue
			}
			if _, dup := c.SessionClaims[field]; dup {
				l.probs.add("AUTH_SESSION_CLAIMS", fmt.Sprintf("maps field %q twice", field), "map each session.user field once")
				continue
			}
			c.SessionClaims[field] = claim
		}
	}
	if b := l.boolVar("AUTH_SESSION_USER_ID"); b != nil {
		c.SessionUserID = *b
	}
	c.SessionUpdatable = splitList(l.env.get("AUTH_SESSION_UPDATABLE"))
	for _, k := range l.env.keys {
		rest, ok := strings.CutPrefix(k, "UPSTREAM_")
		name, isGroups := strings.CutSuffix(rest, "_GROUPS")
		if !ok || !isGroups || l.env.get(k) == "" {
			continue
		}
		if _, known := c.Upstreams[strings.ToLower(name)]; !known && !c.DevIdPDemo(name) {
			l.probs.add(k, "names no configured upstream", "set UPSTREAM_"+name+"=https://... too, or remove it")
			continue
		}
		if c.UpstreamGroups == nil {
			c.UpstreamGroups = map[string][]string{}
		}
		// "," or "|" between groups, as in PROTECTED_PATHS.
		c.UpstreamGroups[strings.ToLower(name)] = splitList(strings.ReplaceAll(l.env.get(k), "|", ","))
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		k := "AUTH_" + strings.ToUpper(strings.ReplaceAll(p.ID, "-", "_")) + "_GROUPS_CLAIM"
		if p.Cognito {
			k = "COGNITO_GROUPS_CLAIM"
		}
		p.GroupsClaim = l.env.get(k)
		if p.GroupsClaim == "" && p.Cognito {
			p.GroupsClaim = l.env.get("AUTH_COGNITO_GROUPS_CLAIM")
		}
	}
}

// DevIdPDemo reports whether name is the dev IdP's own demo upstream,
// which exists when no provider is configured.
func (c *Config) DevIdPDemo(name string) bool {
	return strings.EqualFold(name, "demo") && len(c.Providers) == 0
}
