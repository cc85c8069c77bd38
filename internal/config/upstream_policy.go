package config

import (
	"fmt"
	"strings"
)

// UpstreamPolicy is how one upstream is called: which token it gets and
// whether it takes WebSockets.
type UpstreamPolicy struct {
	// Token is UPSTREAM_<NAME>_TOKEN: "user" (the default), "client",
	// "user-or-client" or "none".
	Token string
	// Resource is UPSTREAM_<NAME>_RESOURCE (RFC 8707; a comma list).
	Resource []string
	// Scope is UPSTREAM_<NAME>_SCOPE (space-separated scopes).
	Scope string
	// Audience is UPSTREAM_<NAME>_AUDIENCE (sent as audience).
	Audience string
	// Provider is UPSTREAM_<NAME>_PROVIDER: the provider id whose tokens
	// the upstream takes ("": the session's own).
	Provider string
	// WebSocket is UPSTREAM_<NAME>_WEBSOCKET: upgrades are proxied.
	WebSocket bool
}

// upstreamPolicySuffixes are the UPSTREAM_<NAME>_<SUFFIX> settings of an
// upstream's token policy.
var upstreamPolicySuffixes = []string{"_TOKEN", "_RESOURCE", "_SCOPE", "_AUDIENCE", "_PROVIDER", "_WEBSOCKET"}

// upstreamPolicyVar reports whether UPSTREAM_<name> is a policy setting of
// another upstream (UPSTREAM_<BASE>_<SUFFIX> with UPSTREAM_<BASE> set)
// rather than an upstream of its own.
func (l *loader) upstreamPolicyVar(name string) bool {
	for _, suf := range upstreamPolicySuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok && base != "" && l.env.get("UPSTREAM_"+base) != "" {
			return true
		}
	}
	return false
}

// upstreamPolicies fills c.UpstreamPolicies from the policy settings of
// the upstreams in c.Upstreams.
func (l *loader) upstreamPolicies(c *Config) {
	c.UpstreamPolicies = map[string]UpstreamPolicy{}
	for _, k := range l.env.keys {
		name, ok := strings.CutPrefix(k, "UPSTREAM_")
		if !ok || l.env.get(k) == "" || !validVarName(name) || c.Upstreams[strings.ToLower(name)] == nil {
			continue
		}
		var p UpstreamPolicy
		set := false
		get := func(suf string) string {
			v := l.env.get(k + suf)
			set = set || v != ""
			return v
		}
		p.Token = get("_TOKEN")
		switch p.Token {
		case "", "user", "client", "user-or-client", "none":
		default:
			l.probs.add(k+"_TOKEN", fmt.Sprintf("%q is not a token policy", p.Token), "set user, client, user-or-client or none")
		}
		p.Resource = splitList(get("_RESOURCE"))
		for _, r := range p.Resource {
			if u, err := parseHTTPURL(r); err != nil || u.Fragment != "" {
				l.probs.add(k+"_RESOURCE", fmt.Sprintf("%q is not an absolute URI", r), "list the APIs' resource indicators (RFC 8707), e.g. https://api.example.com")
			}
		}
		p.Scope = get("_SCOPE")
		p.Audience = get("_AUDIENCE")
		p.Provider = get("_PROVIDER")
		if ws := get("_WEBSOCKET"); ws != "" {
			b, err := parseBool(ws)
			if err != nil {
				l.probs.add(k+"_WEBSOCKET", err.Error(), "set 1 to proxy WebSockets to this upstream, 0 not to")
			}
			p.WebSocket = b
		}
		if set {
			c.UpstreamPolicies[strings.ToLower(name)] = p
		}
	}
}
