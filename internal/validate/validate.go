// Package validate holds the checks of authbff's settings that both the Go
// validation of bff.Options and the environment mapper (internal/config)
// make: URLs, issuers, provider ids, ID token algorithms, session store
// spellings, and the redaction of secrets in messages. Its errors say what
// is wrong with a value and never name where the value came from (a field
// or a variable): the caller adds that.
package validate

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// HTTPURL parses an absolute http(s) URL without userinfo, query or
// fragment, lower-casing scheme and host and dropping the default port. Its
// errors show raw through RedactURL.
func HTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, RedactError(fmt.Errorf("is not a URL: %w", err), raw)
	}
	shown := RedactURL(raw)
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q is not an absolute http:// or https:// URL", shown)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host", shown)
	case u.User != nil:
		return nil, fmt.Errorf("%q contains user info", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("%q has a query string", shown)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("%q has a fragment", shown)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q has an invalid port", shown)
		}
	}
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	return u, nil
}

// Issuer checks an issuer-like URL: HTTPURL, and http:// only for
// loopback hosts. It returns raw unchanged: issuers are compared byte for
// byte with discovery and the ID token, so authbff does not rewrite them.
func Issuer(raw string) (string, error) {
	u, err := HTTPURL(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "http" && !Loopback(u.Hostname()) {
		return "", fmt.Errorf("%q uses http:// on a host that is not loopback", RedactURL(raw))
	}
	return raw, nil
}

// Loopback reports whether host is localhost, in 127.0.0.0/8 or ::1.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ProviderID reports whether id may name a provider in URLs
// (/signin/<id>): lower-case ASCII letters and digits, not empty; or one of
// the preset ids NextAuth spells with hyphens (PresetIDs).
func ProviderID(id string) bool {
	if slices.Contains(PresetIDs, id) {
		return true
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return id != ""
}

// PresetIDs are the provider ids of authbff's presets that are not plain
// a-z0-9: NextAuth's own ids, kept so signIn('<id>') works unchanged.
var PresetIDs = []string{"microsoft-entra-id"}

// IDTokenAlgs are the ID token signature algorithms authbff accepts when
// asked: the asymmetric JWS algorithms, in their canonical spelling.
var IDTokenAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// IDTokenAlg returns the canonical spelling of a JWS algorithm name given
// in any case, or why it is refused ("none" and HS* never are accepted).
func IDTokenAlg(s string) (alg, problem string) {
	for _, a := range IDTokenAlgs {
		if strings.EqualFold(a, s) {
			return a, ""
		}
	}
	switch u := strings.ToUpper(s); {
	case u == "NONE":
		return "", "lists none: an unsigned ID token proves nothing and is never accepted"
	case strings.HasPrefix(u, "HS"):
		return "", fmt.Sprintf("lists %s: symmetric (HMAC) ID tokens are keyed with the client secret and are never accepted", s)
	}
	return "", fmt.Sprintf("%q is not a known ID token signature algorithm", s)
}

// StoreFix is what to do about a session store spelling StoreSpec refuses.
const StoreFix = "use memory, bolt:<path>, redis://[user:pass@]host:port[/db], rediss://..., " +
	"redis-sentinel://host:26379,.../<master> or redis-cluster://host:6379,..."

// StoreSpec checks a session store spelling: memory, bolt:<path>,
// redis://..., rediss://..., redis-sentinel://..., redis-cluster://....
// Its errors show the spelling through RedactURL.
func StoreSpec(s string) error {
	if s == "memory" {
		return nil
	}
	if path, ok := strings.CutPrefix(s, "bolt:"); ok {
		if path == "" {
			return fmt.Errorf("%q has no file path", s)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return RedactError(fmt.Errorf("%q is not a store: %w", s, err), s)
	}
	switch u.Scheme {
	case "redis", "rediss":
	case "redis-sentinel", "redis-cluster":
		return nil // several hosts; redisstore.ParseUniversalURL checks them
	case "postgres", "postgresql":
		return nil // the host may be a query parameter (a socket); pgx checks
	default:
		return fmt.Errorf("%q is not a known session store", RedactURL(s))
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", RedactURL(s))
	}
	return nil
}

// ProcessLocal reports whether only this process writes the store spelled
// spec (memory, bolt), so a long session cache stays exact.
func ProcessLocal(spec string) bool {
	return spec == "memory" || strings.HasPrefix(spec, "bolt:")
}

// MultiTenantIssuer reports whether issuer is a Microsoft Entra ID
// multi-tenant issuer: its path's first segment is common, organizations
// or consumers (https://login.microsoftonline.com/common/v2.0), so its
// discovery issuer is a {tenantid} template and any tenant could sign in.
func MultiTenantIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	switch first {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}
