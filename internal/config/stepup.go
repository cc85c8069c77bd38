package config

import (
	"strconv"
	"strings"
	"time"
)

// StepUp is an upstream's step-up requirement: UPSTREAM_<NAME>_ACR (acr
// values, space or comma separated, any one of them) and
// UPSTREAM_<NAME>_MAX_AGE (seconds since the user last authenticated).
type StepUp struct {
	ACR    []string
	MaxAge time.Duration
}

// upstreamStepUp reads k when it is an UPSTREAM_<NAME>_ACR or _MAX_AGE
// variable (and reports true: it names no upstream). The upstream itself
// must be configured (bff's validation says so otherwise).
func (l *loader) upstreamStepUp(c *Config, k string) bool {
	var name string
	var isACR bool
	switch {
	case strings.HasSuffix(k, "_MAX_AGE"):
		name = strings.TrimSuffix(strings.TrimPrefix(k, "UPSTREAM_"), "_MAX_AGE")
	case strings.HasSuffix(k, "_ACR"):
		name, isACR = strings.TrimSuffix(strings.TrimPrefix(k, "UPSTREAM_"), "_ACR"), true
	default:
		return false
	}
	if name == "" || l.env.get("UPSTREAM_"+name) == "" {
		return false // an upstream whose own name ends so
	}
	if c.UpstreamStepUp == nil {
		c.UpstreamStepUp = map[string]StepUp{}
	}
	key := strings.ToLower(name)
	su := c.UpstreamStepUp[key]
	v := l.env.get(k)
	if isACR {
		su.ACR = strings.Fields(strings.ReplaceAll(v, ",", " "))
	} else {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			l.probs.add(k, "is not a positive number of seconds", "give the longest time since the user last signed in, e.g. 300")
		}
		su.MaxAge = time.Duration(n) * time.Second
	}
	c.UpstreamStepUp[key] = su
	return true
}

// cookieOptions reads AUTH_COOKIE_SAMESITE and AUTH_COOKIE_PREFIX.
func (l *loader) cookieOptions(c *Config) {
	switch s := strings.ToLower(l.env.get("AUTH_COOKIE_SAMESITE")); s {
	case "", "lax":
	case "strict":
		c.CookieSameSite = s
	default:
		l.probs.add("AUTH_COOKIE_SAMESITE", "is not lax or strict", "set strict to send the session cookie SameSite=Strict, or unset it (Lax)")
	}
	switch s := l.env.get("AUTH_COOKIE_PREFIX"); s {
	case "":
	case "__Host-Http-":
		c.CookiePrefix = s
	default:
		l.probs.add("AUTH_COOKIE_PREFIX", "is not __Host-Http-", "set __Host-Http- (https only) or unset it")
	}
}
