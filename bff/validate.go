package bff

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/validate"
)

// Defaults of the zero fields of Options.
const (
	defaultMaxAge        = 30 * 24 * time.Hour
	defaultUpdateAge     = 24 * time.Hour
	defaultMaxPerUser    = 50
	defaultCacheTTL      = time.Minute
	defaultRefreshMargin = 60 * time.Second
	minSecretLen         = 32
)

// settings are Options checked and with every default applied: what a
// BFF runs with.
type settings struct {
	nextauth.Settings
	Providers      []nextauth.Provider
	Secrets        [][]byte
	SessionStore   string // "" when Options.Store is given
	MaxAge         time.Duration
	UpdateAge      time.Duration
	AbsoluteMaxAge time.Duration
	MaxPerUser     int
	CacheTTL       time.Duration // 0: no cache
	// RefreshOnSession asks GET /session to refresh due tokens.
	RefreshOnSession bool
	Upstreams        map[string]*url.URL
	ProtectedPaths   []string
	TrustedProxies   []netip.Prefix
	DevIdP           bool
	DevIdPAllowCIDRs []netip.Prefix

	// UpstreamGroups are the groups an upstream's callers need, by
	// lower-cased name.
	UpstreamGroups map[string][]string
	// Policies are the upstreams' token policies, by lower-cased name.
	Policies map[string]*upstreamPolicy
	// StepUp is Options.UpstreamStepUp by lower-cased upstream name.
	StepUp map[string]nextauth.StepUp
	// CookieSameSiteStrict sends the session cookie SameSite=Strict.
	CookieSameSiteStrict bool
}

// problems collects what is wrong with Options, each naming the field.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, fmt.Errorf("bff: %s%s", field, fmt.Sprintf(format, args...)))
}

// resolve checks o, every problem at once (errors.Join, each naming the
// field and the fix), and applies the defaults. It has no side effects.
func (o Options) resolve() (*settings, error) {
	var p problems
	s := &settings{}
	o.resolveURL(s, &p)
	switch o.Flavor {
	case "", FlavorV4:
		s.Flavor = auth.FlavorV4
	case FlavorV5:
		s.Flavor = auth.FlavorV5
	default:
		p.add("Flavor", " %q: use FlavorV4 or FlavorV5", o.Flavor)
	}
	s.DataDir = o.DataDir
	for i, sec := range o.Secrets {
		if len(sec) < minSecretLen {
			p.add(fmt.Sprintf("Secrets[%d]", i), ": %d bytes, need at least %d (e.g. the output of `openssl rand -base64 32`)", len(sec), minSecretLen)
			continue
		}
		s.Secrets = append(s.Secrets, []byte(sec))
	}
	o.resolveSessions(s, &p)
	o.resolveAccess(s, &p)
	o.resolveShape(s, &p)
	o.resolveProviders(s, &p)
	o.resolvePolicies(s, &p)
	if len(o.Secrets) == 0 && !s.DevIdP && s.URL != nil && !validate.Loopback(s.URL.Hostname()) {
		p.add("Secrets", " is empty, but URL %s is not a loopback URL (a secret is made only for local development): "+
			"set Secrets[0] to a random string of at least 32 bytes (openssl rand -base64 32)", s.Origin())
	}
	if len(p) > 0 {
		return nil, errors.Join(p...)
	}
	return s, nil
}

func (o Options) resolveURL(s *settings, p *problems) {
	raw := o.URL
	if raw == "" {
		raw = "http://localhost:3000"
	}
	u, err := validate.HTTPURL(raw)
	if err != nil {
		p.add("URL", " %v: set it to the public origin users browse to, e.g. https://app.example.com", err)
		u, _ = url.Parse("http://localhost:3000")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	s.URL, s.BasePath = u, "/api/auth"
	if u.Path != "" {
		s.BasePath = u.Path
	}
}

// duration applies the rule of every duration: 0 is the default, negative
// is "off" when off is allowed (returned as 0) and an error otherwise.
func duration(p *problems, field string, d, def time.Duration, offOK bool) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0 && offOK:
		return 0
	case d < 0:
		p.add(field, " %s is negative: leave it 0 for the default (%s) or give a positive duration", d, def)
		return def
	}
	return d
}

func (o Options) resolveSessions(s *settings, p *problems) {
	switch {
	case o.Store != nil:
	case o.StoreSpec != "":
		if err := validate.StoreSpec(o.StoreSpec); err != nil {
			p.add("StoreSpec", " %v: %s", err, validate.StoreFix)
		}
		s.SessionStore = o.StoreSpec
	case o.DataDir != "":
		s.SessionStore = "bolt:" + filepath.Join(o.DataDir, "sessions.db")
	default:
		s.SessionStore = "memory"
	}
	s.MaxAge = duration(p, "SessionMaxAge", o.SessionMaxAge, defaultMaxAge, false)
	s.UpdateAge = duration(p, "SessionUpdateAge", o.SessionUpdateAge, defaultUpdateAge, false)
	if o.SessionUpdateAge == 0 && s.UpdateAge > s.MaxAge {
		s.UpdateAge = s.MaxAge
	}
	if s.UpdateAge > s.MaxAge {
		p.add("SessionUpdateAge", " (%s) is longer than SessionMaxAge (%s): make it at most the max age", s.UpdateAge, s.MaxAge)
	}
	s.AbsoluteMaxAge = duration(p, "SessionAbsoluteMaxAge", o.SessionAbsoluteMaxAge, defaultMaxAge, false)
	s.MaxPerUser = o.SessionMaxPerUser
	switch {
	case s.MaxPerUser == 0:
		s.MaxPerUser = defaultMaxPerUser
	case s.MaxPerUser < 0:
		p.add("SessionMaxPerUser", " %d is negative: leave it 0 for the default (%d) or give a positive number", s.MaxPerUser, defaultMaxPerUser)
	}
	s.CacheTTL = duration(p, "SessionCacheTTL", o.SessionCacheTTL, defaultCacheTTL, true)
	shared := o.Store != nil || !validate.ProcessLocal(s.SessionStore)
	if s.CacheTTL > time.Minute && shared {
		p.add("SessionCacheTTL", " (%s) is longer than a minute with a shared store: keep it at or below 1s "+
			"(another instance's sign-out must show quickly), or negative to turn the cache off", s.CacheTTL)
	}
	s.RefreshMargin = duration(p, "RefreshMargin", o.RefreshMargin, defaultRefreshMargin, false)
	s.RefreshOnSession = o.RefreshOnSession
}

func (o Options) resolveAccess(s *settings, p *problems) {
	s.FederatedSignout = o.FederatedSignout
	s.SessionGroups = o.SessionGroups
	s.AllowedGroups = append([]string(nil), o.AllowedGroups...)
	for i, d := range o.AllowedEmailDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" {
			p.add(fmt.Sprintf("AllowedEmailDomains[%d]", i), " is empty: give a domain such as example.com")
			continue
		}
		s.AllowedEmailDomains = append(s.AllowedEmailDomains, d)
	}
	for i, c := range o.CORSOrigins {
		field := fmt.Sprintf("CORSOrigins[%d]", i)
		if c == "*" {
			p.add(field, ` "*" cannot be used with credentialed requests: list the exact origins, e.g. https://app.example.com`)
			continue
		}
		u, err := validate.HTTPURL(c)
		if err == nil && u.Path != "" && u.Path != "/" {
			err = fmt.Errorf("%q has a path", validate.RedactURL(c))
		}
		if err != nil {
			p.add(field, " %v: give an origin as scheme://host[:port]", err)
			continue
		}
		s.CORSOrigins = append(s.CORSOrigins, u.Scheme+"://"+u.Host)
	}
	s.ProtectedPaths = []string{"/protected*"}
	if o.ProtectedPaths != nil {
		s.ProtectedPaths = nil
	}
	for i, pp := range o.ProtectedPaths {
		if !strings.HasPrefix(pp, "/") {
			p.add(fmt.Sprintf("ProtectedPaths[%d]", i), " %q does not start with /: give an absolute path, e.g. /account or /admin*", pp)
			continue
		}
		s.ProtectedPaths = append(s.ProtectedPaths, pp)
	}
	s.Upstreams = map[string]*url.URL{}
	for name, raw := range o.Upstreams {
		field := fmt.Sprintf("Upstreams[%q]", name)
		key := strings.ToLower(name)
		if !upstreamName(key) {
			p.add(field, ": use letters, digits and _ in an upstream's name")
			continue
		}
		if _, dup := s.Upstreams[key]; dup {
			p.add(field, ": another upstream has this name in another case: give each its own name")
			continue
		}
		u, err := validate.HTTPURL(raw)
		if err != nil {
			p.add(field, " %v: give the API's absolute base URL, e.g. https://api.example.com/v1", err)
			continue
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		s.Upstreams[key] = u
	}
	s.StepUp = resolveStepUps(p, o.UpstreamStepUp, s.Upstreams)
	o.resolveCookies(p, s)
	s.TrustedProxies = prefixes(p, "TrustedProxies", o.TrustedProxies)
	s.DevIdPAllowCIDRs = prefixes(p, "DevIdPAllowCIDRs", o.DevIdPAllowCIDRs)
}

// prefixes checks and masks a list of networks.
func prefixes(p *problems, field string, in []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for i, pr := range in {
		if !pr.IsValid() {
			p.add(fmt.Sprintf("%s[%d]", field, i), " is not a valid network: use netip.MustParsePrefix(\"10.0.0.0/8\") or netip.PrefixFrom(addr, addr.BitLen())")
			continue
		}
		out = append(out, netip.PrefixFrom(pr.Addr().Unmap(), min(pr.Bits(), pr.Addr().Unmap().BitLen())).Masked())
	}
	return out
}

// upstreamName reports whether s (lower-cased) may name an upstream.
func upstreamName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return s != ""
}

func (o Options) resolveProviders(s *settings, p *problems) {
	// Configured providers win over DevIdP: OptionsFromEnv asks for the
	// development IdP when the environment names no provider, and a program
	// that then fills Providers by hand must get its providers, not an error.
	s.DevIdP = o.DevIdP && len(o.Providers) == 0
	switch {
	case s.DevIdP && s.Secure() && !validate.Loopback(s.URL.Hostname()):
		p.add("DevIdP", " is set, but URL %s is a public https URL: the development IdP is not for production; configure Providers", s.Origin())
	case !o.DevIdP && len(o.Providers) == 0:
		p.add("Providers", " is empty: configure an identity provider (Issuer, ClientID, ClientSecret), or set DevIdP for local development")
	}
	seen := map[string]int{}
	for i, pr := range o.Providers {
		np, ok := pr.resolve(fmt.Sprintf("Providers[%d]", i), p)
		if !ok {
			continue
		}
		if j, dup := seen[np.ID]; dup {
			p.add(fmt.Sprintf("Providers[%d].ID", i), " %q is also Providers[%d]'s: give each provider its own id", np.ID, j)
			continue
		}
		seen[np.ID] = i
		s.Providers = append(s.Providers, np)
	}
}

// resolve checks one provider; field is its path ("Providers[1]").
func (pr Provider) resolve(field string, p *problems) (nextauth.Provider, bool) {
	n := len(*p)
	pr = pr.preset()
	np := nextauth.Provider{ID: pr.ID, Name: pr.Name, ClientID: pr.ClientID, ClientSecret: pr.ClientSecret,
		Cognito: pr.Cognito, UserInfo: pr.UserInfo, LogoutIDTokenHint: pr.LogoutIDTokenHint,
		GroupsClaim: strings.TrimSpace(pr.GroupsClaim)}
	if np.ID == "" && pr.Cognito {
		np.ID = "cognito"
	}
	switch {
	case np.ID == "":
		p.add(field+".ID", " is empty: give the provider an id of a-z and 0-9, e.g. okta")
	case !validate.ProviderID(np.ID):
		p.add(field+".ID", " %q: use a-z and 0-9 (single hyphens inside allowed)", np.ID)
	}
	if np.Name == "" && np.ID != "" {
		np.Name = strings.ToUpper(np.ID[:1]) + np.ID[1:]
		if pr.Cognito {
			np.Name = "Cognito"
		}
	}
	if pr.CognitoDomain != "" {
		raw := pr.CognitoDomain
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		raw = strings.TrimRight(raw, "/")
		_, err := validate.Issuer(raw)
		u, _ := validate.HTTPURL(raw)
		if err == nil && u.Path != "" {
			err = fmt.Errorf("%q has a path", validate.RedactURL(raw))
		}
		if err != nil {
			p.add(field+".CognitoDomain", " %v: give the hosted UI domain only, e.g. myapp.auth.eu-west-1.amazoncognito.com", err)
		} else {
			np.CognitoDomain = u.Scheme + "://" + u.Host
		}
	}
	oauth := pr.Type == ProviderOAuth
	switch {
	case oauth:
		if pr.Issuer != "" {
			p.add(field+".Issuer", " is set, but Type is oauth: a plain OAuth 2.0 provider has no issuer (remove it, or use Type oidc)")
		}
	case pr.Issuer != "":
		if _, err := validate.Issuer(pr.Issuer); err != nil {
			p.add(field+".Issuer", " %v: give the provider's https:// issuer exactly as its discovery document states", err)
		}
		np.Issuer = pr.Issuer
	case pr.Cognito && pr.CognitoDomain != "":
		np.LearnIssuer = true
	case pr.Cognito:
		p.add(field+".Issuer", " is empty: give https://cognito-idp.<region>.amazonaws.com/<userPoolId>, or set CognitoDomain to learn it from the first sign-in")
	default:
		p.add(field+".Issuer", " is empty: give the provider's OIDC issuer URL (the one serving /.well-known/openid-configuration)")
	}
	if np.ClientID == "" {
		p.add(field+".ClientID", " is empty: give the client id registered at the provider")
	}
	np.Scopes = []string{"openid", "profile", "email"}
	if oauth {
		np.Scopes = nil
	}
	if len(pr.Scopes) > 0 {
		np.Scopes = append([]string(nil), pr.Scopes...)
		if !contains(np.Scopes, "openid") && !oauth && !pr.Apple {
			p.add(field+".Scopes", " %q lacks openid: add it, e.g. openid profile email", strings.Join(pr.Scopes, " "))
		}
	}
	if pr.Apple {
		np.AuthStyle = oidc.AuthStylePost // the minted secret
	} else {
		np.AuthStyle = resolveAuthStyle(field, pr, p)
	}
	pr.resolveKind(field, &np, p)
	pr.resolveClientAuth(field, &np, p)
	for i, a := range pr.IDTokenAlgs {
		alg, msg := validate.IDTokenAlg(a)
		if msg != "" {
			p.add(fmt.Sprintf("%s.IDTokenAlgs[%d]", field, i), " %s: list asymmetric algorithms only (%s)", msg, strings.Join(validate.IDTokenAlgs, ", "))
			continue
		}
		if !contains(np.IDTokenAlgs, alg) {
			np.IDTokenAlgs = append(np.IDTokenAlgs, alg)
		}
	}
	return np, len(*p) == n
}

func resolveAuthStyle(field string, pr Provider, p *problems) oidc.AuthStyle {
	secret := pr.ClientSecret != ""
	switch pr.AuthStyle {
	case AuthStyleAuto:
		if secret {
			return oidc.AuthStylePost
		}
		return oidc.AuthStyleNone
	case AuthStylePost, AuthStyleBasic:
		if !secret {
			p.add(field+".AuthStyle", " is %s, but ClientSecret is empty: set the secret, or use AuthStyleNone for a public client", pr.AuthStyle)
		}
		if pr.AuthStyle == AuthStyleBasic {
			return oidc.AuthStyleBasic
		}
		return oidc.AuthStylePost
	case AuthStyleNone:
		if secret {
			p.add(field+".AuthStyle", " is none, but ClientSecret is set: remove the secret for a public client, or use AuthStylePost / AuthStyleBasic")
		}
		return oidc.AuthStyleNone
	}
	if style, ok := assertionStyle(field, pr, p); ok {
		return style
	}
	p.add(field+".AuthStyle", " %q: use AuthStylePost, AuthStyleBasic, AuthStyleNone, AuthStylePrivateKeyJWT or AuthStyleSecretJWT", pr.AuthStyle)
	return oidc.AuthStylePost
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
