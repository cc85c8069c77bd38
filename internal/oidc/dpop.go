package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// DPoP (RFC 9449): tokens bound to a key pair the client holds. authbff
// makes one P-256 key per session (kept sealed in the session record,
// never in the browser), proves possession of it on the token requests
// (code, refresh) and on every call made with the access token: a DPoP
// header holding a JWT (typ dpop+jwt, the public key in its header) with
// jti, htm, htu, iat, the server's nonce when it asked for one
// (use_dpop_nonce, DPoP-Nonce), and ath (the access token's hash) on
// resource calls. A token copied without the key is useless.

// NewDPoPKey makes a session's DPoP key.
func NewDPoPKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MarshalDPoPKey encodes a DPoP key (PKCS #8 DER) for the session record.
func MarshalDPoPKey(k *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	return string(der), err
}

// ParseDPoPKey decodes MarshalDPoPKey's encoding.
func ParseDPoPKey(s string) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey([]byte(s))
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("oidc: dpop: not an ECDSA key")
	}
	return ec, nil
}

// DPoPThumbprint is the key's RFC 7638 thumbprint (the token's cnf.jkt).
func DPoPThumbprint(k *ecdsa.PrivateKey) (string, error) { return thumbprint(k.Public()) }

// DPoPProof makes a proof for a request of method to target (its query
// and fragment are not part of htu); accessToken, when set, is bound by
// ath; nonce is the server's DPoP-Nonce, if any.
func DPoPProof(k *ecdsa.PrivateKey, method, target, accessToken, nonce string, iat int64) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	u.RawQuery, u.Fragment, u.ForceQuery = "", "", false
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti[:]), "htm": method, "htu": u.String(), "iat": iat}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	payload, _ := json.Marshal(claims)
	pub, err := jwk.FromRaw(k.Public())
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, "dpop+jwt")
	_ = hdr.Set(jws.JWKKey, pub)
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256, k, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("oidc: dpop proof: %w", err)
	}
	return string(out), nil
}

// IsDPoPNonceChallenge reports whether resp asks for a DPoP nonce: an
// authorization server's 400 use_dpop_nonce (its body) or a resource
// server's 401 WWW-Authenticate: DPoP error="use_dpop_nonce"; the nonce
// is in DPoP-Nonce.
func IsDPoPNonceChallenge(resp *http.Response) bool {
	if resp.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
	}
	return resp.StatusCode == http.StatusBadRequest
}

type dpopKeyCtx struct{}

// WithDPoPKey makes the provider's token requests (Exchange, Refresh) and
// userinfo calls under ctx DPoP-bound to k.
func WithDPoPKey(ctx context.Context, k *ecdsa.PrivateKey) context.Context {
	return context.WithValue(ctx, dpopKeyCtx{}, k)
}

func dpopKeyFrom(ctx context.Context) *ecdsa.PrivateKey {
	k, _ := ctx.Value(dpopKeyCtx{}).(*ecdsa.PrivateKey)
	return k
}

// DPoPKeyFrom is the key WithDPoPKey put in ctx (nil: none): the key the
// provider's token requests under ctx are bound to.
func DPoPKeyFrom(ctx context.Context) *ecdsa.PrivateKey { return dpopKeyFrom(ctx) }

// DPoP reports whether the provider is configured for DPoP.
func (p *Provider) DPoP() bool { return p.cfg.DPoP }

// dpopNonces remembers the last nonce per server (origin).
func (p *Provider) dpopNonce(target string) string {
	p.dpopMu.Lock()
	defer p.dpopMu.Unlock()
	return p.dpopNonces[originOf(target)]
}

func (p *Provider) setDPoPNonce(target, nonce string) {
	if nonce == "" {
		return
	}
	p.dpopMu.Lock()
	defer p.dpopMu.Unlock()
	if p.dpopNonces == nil {
		p.dpopNonces = map[string]string{}
	}
	if len(p.dpopNonces) > 64 {
		clear(p.dpopNonces)
	}
	p.dpopNonces[originOf(target)] = nonce
}

func originOf(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	return u.Scheme + "://" + u.Host
}

// sendDPoP sends r (its body replayable through GetBody) with a proof of
// k, once more with the server's nonce when it asks for one.
func (p *Provider) sendDPoP(base http.RoundTripper, r *http.Request, k *ecdsa.PrivateKey, accessToken string, build func() (*http.Request, error)) (*http.Response, error) {
	target := r.URL.String()
	for attempt := 0; ; attempt++ {
		proof, err := DPoPProof(k, r.Method, target, accessToken, p.dpopNonce(target), p.now().Unix())
		if err != nil {
			return nil, err
		}
		r.Header.Set("DPoP", proof)
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		p.setDPoPNonce(target, resp.Header.Get("DPoP-Nonce"))
		if attempt > 0 || !IsDPoPNonceChallenge(resp) {
			return resp, nil
		}
		resp.Body.Close()
		if r, err = build(); err != nil {
			return nil, err
		}
	}
}

// dpopUserInfo makes a userinfo request DPoP-bound: Authorization: DPoP
// and a proof with ath, sent through a client that retries once with the
// server's nonce.
func (p *Provider) dpopUserInfo(req *http.Request, k *ecdsa.PrivateKey, accessToken string) *http.Request {
	req.Header.Set("Authorization", "DPoP "+accessToken)
	return req.WithContext(context.WithValue(req.Context(), dpopResourceCtx{}, accessToken))
}

type dpopResourceCtx struct{}

// dpopResourceTransport signs requests marked by dpopUserInfo.
type dpopResourceTransport struct {
	base http.RoundTripper
	p    *Provider
}

func (t dpopResourceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	at, ok := r.Context().Value(dpopResourceCtx{}).(string)
	k := dpopKeyFrom(r.Context())
	if !ok || k == nil {
		return t.base.RoundTrip(r)
	}
	build := func() (*http.Request, error) { return r.Clone(r.Context()), nil }
	return t.p.sendDPoP(t.base, r, k, at, build)
}

// WithDPoPKeyText is WithDPoPKey with a session's MarshalDPoPKey text; ""
// (a session without DPoP) or an unreadable key leaves ctx as it is.
func WithDPoPKeyText(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	k, err := ParseDPoPKey(key)
	if err != nil {
		return ctx
	}
	return WithDPoPKey(ctx, k)
}

// DPoPAlgs are discovery's dpop_signing_alg_values_supported (nil: the
// provider does not announce DPoP).
func (p *Provider) DPoPAlgs(ctx context.Context) ([]string, error) {
	if p.isOAuth2() || p.issuer() == "" {
		return nil, nil
	}
	m, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	return m.DPoPAlgs, nil
}
