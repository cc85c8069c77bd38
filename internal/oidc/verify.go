package oidc

import (
	"context"
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384/512
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// VerifyIDToken verifies a compact-serialised ID token and returns its claims.
//
// It checks: a single signature by a key from the provider's JWKS (an unknown
// kid refetches the JWKS, at most once per 10 s; without kid, the single key
// that fits is used); alg one of IDTokenAlgs (asymmetric only) and equal to
// the key's alg when the key names one (so "none", HS* and alg confusion
// fail); no "crit" header; iss == Config.Issuer exactly (with LearnIssuer:
// the learned issuer; before it is learned VerifyIDToken refuses with
// ErrDiscovery, as only a token from the token endpoint may teach it); aud
// contains ClientID; azp == ClientID when
// present, and required when aud has several values; exp present and not
// past (ClockSkew); nbf not in the future; iat present, not in the future
// and at most 24 h old; sub present; nonce == nonce when nonce != "";
// with Config.Cognito, token_use == "id".
//
// The caller must STILL check at_hash against the access token (Exchange
// does) and, on refresh, that the identity did not change (Refresh does).
// Refused tokens give errors wrapping ErrInvalidIDToken; failures to fetch
// discovery or the JWKS wrap ErrDiscovery instead.
func (p *Provider) VerifyIDToken(ctx context.Context, raw, nonce string) (*Claims, error) {
	if p.issuer() == "" {
		// Only a token fetched from the token endpoint may teach the issuer.
		return nil, fmt.Errorf("oidc: id token: %w", errIssuerPending)
	}
	c, _, err := p.verifyIDToken(ctx, raw, nonce)
	return c, err
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidIDToken}, args...)...)
}

// verifyIDToken also returns the alg, which at_hash needs.
func (p *Provider) verifyIDToken(ctx context.Context, raw, nonce string) (*Claims, string, error) {
	if p.issuer() == "" {
		return p.learnIssuer(ctx, raw, nonce)
	}
	payload, alg, err := p.verifySignature(ctx, raw, "id token", invalid)
	if err != nil {
		return nil, "", err
	}
	c, err := parseClaims(payload)
	if err != nil {
		return nil, "", invalid("%w", err)
	}
	if err := p.checkClaims(c, nonce); err != nil {
		return nil, "", err
	}
	return c, alg, nil
}

// verifySignature checks a compact JWS against the provider's JWKS and
// returns its payload and alg: exactly one signature, an alg the provider
// accepts (algs.go) equal to the key's, no "crit". Refusals are made with refuse; JWKS or discovery
// failures wrap ErrDiscovery. The claims are NOT checked.
func (p *Provider) verifySignature(ctx context.Context, raw, what string, refuse func(string, ...any) error) ([]byte, string, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, "", refuse("not a compact jws")
	}
	msg, err := jws.Parse([]byte(raw))
	if err != nil {
		return nil, "", refuse("parse: %w", err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, "", refuse("want exactly one signature, got %d", len(sigs))
	}
	hdr := sigs[0].ProtectedHeaders()
	alg := hdr.Algorithm().String()
	if !supportedAlg(alg) { // none and HS*: refused before any network call
		return nil, "", refuse("alg %q not allowed (asymmetric algorithms only)", alg)
	}
	if len(hdr.Critical()) > 0 {
		return nil, "", refuse("unsupported crit header %v", hdr.Critical())
	}
	m, err := p.discover(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("oidc: %s: %w", what, err)
	}
	if !p.algAllowed(m, alg) {
		return nil, "", refuse("alg %q not allowed (want one of %v)", alg, p.acceptedAlgs(m))
	}
	key, err := p.keys.key(ctx, hdr.KeyID(), alg)
	if err != nil {
		if errors.Is(err, errJWKSFetch) {
			return nil, "", fmt.Errorf("oidc: %s: %w: %w", what, ErrDiscovery, err)
		}
		return nil, "", refuse("%w", err)
	}
	payload, err := jws.Verify([]byte(raw), jws.WithKey(jwa.SignatureAlgorithm(alg), key))
	if err != nil {
		return nil, "", refuse("signature: %w", err)
	}
	return payload, alg, nil
}

func (p *Provider) checkClaims(c *Claims, nonce string) error {
	now := p.now()
	switch {
	case c.Issuer == "":
		return invalid("iss missing")
	case !p.issuerOK(c):
		return invalid("iss mismatch (got %q, want %q)", c.Issuer, p.issuer())
	case c.Subject == "":
		return invalid("sub missing")
	case len(c.Audience) == 0:
		return invalid("aud missing")
	case !slices.Contains(c.Audience, p.cfg.ClientID):
		return invalid("aud %v does not contain the client id", c.Audience)
	case len(c.Audience) > 1 && c.AuthorizedParty == "":
		return invalid("aud has several values and azp is missing")
	case c.AuthorizedParty != "" && c.AuthorizedParty != p.cfg.ClientID:
		return invalid("azp %q is not the client id", c.AuthorizedParty)
	case c.Expiry.IsZero():
		return invalid("exp missing")
	case now.After(c.Expiry.Add(p.skew)):
		return invalid("expired at %s", c.Expiry.Format("2006-01-02T15:04:05Z07:00"))
	case c.IssuedAt.IsZero():
		return invalid("iat missing")
	case c.IssuedAt.After(now.Add(p.skew)):
		return invalid("iat in the future")
	case now.Sub(c.IssuedAt) > maxIDTokenAge+p.skew:
		return invalid("iat older than %s", maxIDTokenAge)
	}
	nbf, err := numericDate(c.Raw, "nbf")
	if err != nil {
		return invalid("%w", err)
	}
	if !nbf.IsZero() && nbf.After(now.Add(p.skew)) {
		return invalid("nbf in the future")
	}
	if nonce != "" {
		got, _ := c.Raw["nonce"].(string)
		if got == "" {
			return invalid("nonce missing")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
			return invalid("nonce mismatch")
		}
	}
	if p.cfg.Cognito {
		if tu, _ := c.Raw["token_use"].(string); tu != "id" {
			return invalid("token_use %q, want \"id\"", tu)
		}
	}
	return p.checkAllowed(c)
}

// checkAtHash verifies the at_hash claim, when present, against the access
// token: base64url of the left half of the alg's hash of the token.
func checkAtHash(c *Claims, alg, accessToken string) error {
	v, ok := c.Raw["at_hash"]
	if !ok {
		return nil
	}
	want, _ := v.(string)
	var h crypto.Hash
	switch {
	case alg == "EdDSA":
		h = crypto.SHA512
	case strings.HasSuffix(alg, "256"):
		h = crypto.SHA256
	case strings.HasSuffix(alg, "384"):
		h = crypto.SHA384
	case strings.HasSuffix(alg, "512"):
		h = crypto.SHA512
	default:
		return invalid("at_hash: unsupported alg %s", alg)
	}
	d := h.New()
	d.Write([]byte(accessToken))
	sum := d.Sum(nil)
	got := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return invalid("at_hash does not match the access token")
	}
	return nil
}
