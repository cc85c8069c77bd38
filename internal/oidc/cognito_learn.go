package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"
)

// Learning a Cognito user pool's issuer from its hosted-UI domain
// (Config.LearnIssuer). The 2021 tutorial configures only COGNITO_DOMAIN;
// the pool id is not in the domain, but every ID token the domain's token
// endpoint returns names the pool in iss. A domain belongs to exactly one
// pool, so the first such token (fetched by authbff itself over TLS, with
// its client credentials) is trusted to name it, provided iss has the shape
// of a user pool issuer of the domain's region and the token verifies
// against that issuer's discovery and JWKS. The issuer is then pinned:
// from then on the Provider behaves as if it had been configured.

// errIssuerPending means the issuer has not been learned yet.
var errIssuerPending = fmt.Errorf("%w: the cognito user pool issuer is not known yet "+
	"(it is learned from the first sign-in; set COGNITO_ISSUER to make it explicit)", ErrDiscovery)

// IssuerPin keeps a learned issuer (Config.IssuerPin). Implementations must
// be safe for use by one Provider; FileIssuerPin keeps it in a file.
type IssuerPin interface {
	// Load returns the pinned issuer, or "" and nil when none is pinned.
	Load() (string, error)
	// Save pins issuer durably. The Provider calls it once, after a token
	// naming issuer passed every check.
	Save(issuer string) error
}

// learner is a Provider's learned-issuer state.
type learner struct {
	base     string // hosted-UI base URL, no trailing slash
	region   string // from <prefix>.auth.<region>.amazoncognito.com; "" otherwise
	loopback bool   // the domain is on a loopback host (tests, local fakes)
	pin      IssuerPin
	sem      chan struct{} // one learner at a time; a channel so waiting honours ctx

	mu     sync.Mutex
	issuer string // "" until learned
}

// newLearner checks a LearnIssuer config and loads any pinned issuer.
func newLearner(cfg Config, base string) (*learner, error) {
	switch {
	case cfg.Issuer != "":
		return nil, errors.New("learn issuer: an issuer is configured: do not ask to learn it")
	case !cfg.Cognito || base == "":
		return nil, errors.New("learn issuer: needs a cognito provider with its hosted-UI domain")
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("learn issuer: cognito domain: %w", err)
	}
	l := &learner{base: base, region: domainRegion(u.Hostname()), loopback: isLoopback(u.Hostname()),
		pin: cfg.IssuerPin, sem: make(chan struct{}, 1)}
	if l.pin == nil {
		return l, nil
	}
	iss, err := l.pin.Load()
	if err != nil {
		return nil, fmt.Errorf("learn issuer: load pinned issuer: %w", err)
	}
	if iss != "" {
		if err := l.accept(iss); err != nil {
			return nil, fmt.Errorf("learn issuer: pinned issuer in %s: %w (delete it to learn again, or set COGNITO_ISSUER)", pinName(l.pin), err)
		}
		l.issuer = iss
	}
	return l, nil
}

func (l *learner) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.issuer
}

func (l *learner) set(iss string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.issuer = iss
}

// domainRegion reads the region of a hosted-UI domain
// <prefix>.auth.<region>.amazoncognito.com (or auth-fips); "" for a custom
// domain.
func domainRegion(host string) string {
	labels := strings.Split(strings.ToLower(host), ".")
	n := len(labels)
	if n < 5 || labels[n-2] != "amazoncognito" || labels[n-1] != "com" ||
		(labels[n-4] != "auth" && labels[n-4] != "auth-fips") || !validRegion(labels[n-3]) {
		return ""
	}
	return labels[n-3]
}

// accept reports whether iss may be the issuer of the pool behind the
// domain: exactly https://cognito-idp.<region>.amazonaws.com/<region>_<id>
// (the domain's region when it names one) or, for a loopback domain, also
// <domain>/<region>_<id>.
func (l *learner) accept(iss string) error {
	if rest, ok := strings.CutPrefix(iss, "https://cognito-idp."); ok {
		region, pool, ok := strings.Cut(rest, ".amazonaws.com/")
		if ok && validPoolID(pool, region) {
			if l.region != "" && region != l.region {
				return fmt.Errorf("issuer %q is in region %s, but the hosted UI domain %s is in %s", iss, region, l.base, l.region)
			}
			return nil
		}
	}
	if pool, ok := strings.CutPrefix(iss, l.base+"/"); ok && l.loopback && validPoolID(pool, "") {
		return nil
	}
	region := l.region
	if region == "" {
		region = "<region>"
	}
	return fmt.Errorf("issuer %q is not a cognito user pool issuer (want exactly https://cognito-idp.%s.amazonaws.com/%s_<id>)", iss, region, region)
}

// validPoolID reports whether pool is "<region>_<id>" (id ASCII letters and
// digits), with the given region unless region is "".
func validPoolID(pool, region string) bool {
	r, id, ok := strings.Cut(pool, "_")
	if !ok || !validRegion(r) || (region != "" && r != region) || id == "" {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// validRegion reports whether s looks like an AWS region ("eu-west-1").
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for i, part := range parts {
		if part == "" {
			return false
		}
		last := i == len(parts)-1
		for _, r := range part {
			if last && (r < '0' || r > '9') || !last && (r < 'a' || r > 'z') {
				return false
			}
		}
	}
	return true
}

// endpoints are the hosted-UI endpoints, all known before the issuer.
func (l *learner) endpoints() endpoints {
	return endpoints{
		authorize:     l.base + "/oauth2/authorize",
		token:         l.base + "/oauth2/token",
		userinfo:      l.base + "/oauth2/userInfo",
		revoke:        l.base + "/oauth2/revoke",
		cognitoLogout: l.base + "/logout",
	}
}

// learnIssuer verifies the first ID token from the token endpoint while the
// issuer is unknown: its iss must pass accept, then the token must verify
// exactly as with that issuer configured (discovery naming it, signature by
// its JWKS, every claim check). Only then is the issuer pinned. Learners
// are serialised, so two first sign-ins at once pin once; the second one is
// verified against the pinned issuer.
func (p *Provider) learnIssuer(ctx context.Context, raw, nonce string) (*Claims, string, error) {
	l := p.learn
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, "", fmt.Errorf("oidc: learn issuer: %w", ctx.Err())
	}
	released := false
	release := func() {
		if !released {
			released = true
			<-l.sem
		}
	}
	defer release()
	if l.get() != "" {
		release()
		return p.verifyIDToken(ctx, raw, nonce)
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, "", err
	}
	if err := checkCandidate(ctx, iss); err != nil {
		return nil, "", err
	}
	if err := l.accept(iss); err != nil {
		p.log.WarnContext(ctx, "cognito: id token refused while learning the user pool issuer", "err", err)
		return nil, "", invalid("%w", err)
	}
	cfg := p.cfg
	cfg.Issuer, cfg.LearnIssuer, cfg.IssuerPin = iss, false, nil
	cfg.HTTPClient, cfg.Logger, cfg.Now = p.client, p.log, p.now
	candidate, err := New(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("oidc: learn issuer: %w", err)
	}
	c, alg, err := candidate.verifyIDToken(ctx, raw, nonce)
	if err != nil {
		return nil, "", err
	}
	if l.pin != nil {
		if err := l.pin.Save(iss); err != nil {
			// The domain still names this pool after a restart; only the
			// record of it is lost, so the sign-in need not fail.
			p.log.ErrorContext(ctx, "cognito: cannot save the learned user pool issuer; it is pinned in memory only",
				"issuer", iss, "pin", pinName(l.pin), "err", err)
		}
	}
	candidate.discMu.Lock()
	meta := candidate.meta
	candidate.discMu.Unlock()
	p.discMu.Lock()
	p.meta = meta
	p.keys.setURI(meta.JWKSURI)
	p.discMu.Unlock()
	l.set(iss)
	p.log.InfoContext(ctx, "cognito: user pool issuer learned from the first sign-in and pinned; set COGNITO_ISSUER to make it explicit",
		"issuer", iss, "domain", l.base, "pin", pinName(l.pin), "set", "COGNITO_ISSUER="+iss)
	return c, alg, nil
}

// unverifiedIssuer reads iss from a compact JWS without verifying it.
func unverifiedIssuer(raw string) (string, error) {
	if strings.Count(raw, ".") != 2 {
		return "", invalid("not a compact jws")
	}
	msg, err := jws.Parse([]byte(raw))
	if err != nil {
		return "", invalid("parse: %w", err)
	}
	var c struct {
		Issuer any `json:"iss"`
	}
	if err := json.Unmarshal(msg.Payload(), &c); err != nil {
		return "", invalid("payload: %w", err)
	}
	iss, ok := c.Issuer.(string)
	if !ok || iss == "" {
		return "", invalid("iss missing")
	}
	return iss, nil
}

// pinName describes where a pin lives, for logs.
func pinName(pin IssuerPin) string {
	if pin == nil {
		return "memory"
	}
	if s, ok := pin.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", pin)
}

// IssuerPinFile is the conventional pin file of a provider in a data
// directory: <dataDir>/cognito-issuer-<providerID>.json.
func IssuerPinFile(dataDir, providerID string) string {
	return filepath.Join(dataDir, "cognito-issuer-"+providerID+".json")
}

// FileIssuerPin is an IssuerPin kept in a JSON file (mode 0600) and bound
// to one hosted-UI domain: a file written for another domain reads as
// nothing pinned (a new domain may front another pool), and is replaced by
// the next Save.
type FileIssuerPin struct {
	path, domain string
}

// NewFileIssuerPin returns the pin kept in path for the hosted-UI domain
// (Config.CognitoDomain, e.g. "https://x.auth.us-east-1.amazoncognito.com").
// It touches no file until Load or Save.
func NewFileIssuerPin(path, domain string) *FileIssuerPin {
	return &FileIssuerPin{path: path, domain: strings.TrimRight(domain, "/")}
}

type pinFile struct {
	Issuer   string    `json:"issuer"`
	Domain   string    `json:"domain"`
	PinnedAt time.Time `json:"pinned_at"`
}

// String returns the file's path.
func (f *FileIssuerPin) String() string { return f.path }

// Load returns the issuer pinned for the domain; "" and nil when the file
// does not exist or names another domain. An unreadable or malformed file
// is an error.
func (f *FileIssuerPin) Load() (string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("oidc: issuer pin: %w", err)
	}
	var pf pinFile
	if err := json.Unmarshal(b, &pf); err != nil {
		return "", fmt.Errorf("oidc: issuer pin: %s: %w (delete it to learn the issuer again)", f.path, err)
	}
	if strings.TrimRight(pf.Domain, "/") != f.domain {
		return "", nil
	}
	return pf.Issuer, nil
}

// Save writes the pin atomically (temporary file, fsync, rename), making
// the directory (0700) when missing.
func (f *FileIssuerPin) Save(issuer string) error {
	b, err := json.MarshalIndent(pinFile{Issuer: issuer, Domain: f.domain, PinnedAt: time.Now().UTC()}, "", "  ")
	if err != nil {
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".cognito-issuer-*.tmp")
	if err != nil {
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("oidc: issuer pin: %w", err)
	}
	return nil
}
