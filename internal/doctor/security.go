package doctor

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
)

// checkSecurity reports the high-security settings (issue 24): the
// private_key_jwt keys and whether the running authbff publishes them,
// pushed authorization requests, DPoP support, and a public client.
func checkSecurity(ctx context.Context, cfg *nextauth.Settings, pc nextauth.Provider, p *oidc.Provider, hc *http.Client, report func(bool, string)) {
	switch pc.AuthStyle {
	case oidc.AuthStyleNone:
		if pc.OAuth2 == nil {
			report(true, "WARNING a public client (no secret or key): a BFF should be a confidential client; prefer private_key_jwt")
		}
	case oidc.AuthStylePrivateKeyJWT:
		checkClientKeys(ctx, cfg, pc, hc, report)
	}
	if ep, required, err := p.PAREndpoint(ctx); err == nil {
		use, uerr := p.UsesPAR(ctx)
		switch {
		case uerr != nil:
			report(false, "pushed authorization requests: "+uerr.Error()+" - set the provider's _PAR variable (AUTH_<ID>_PAR) to auto")
		case use:
			what := "pushed authorization requests (RFC 9126) to " + ep
			if required {
				what += " (the provider requires them)"
			}
			if reachable(ctx, hc, ep) {
				report(true, what+": the endpoint answers")
			} else {
				report(false, what+": the endpoint does not answer - check that this machine can reach it")
			}
		case ep != "":
			report(true, "the provider offers pushed authorization requests, PAR is never: the authorization parameters travel in the browser's URL")
		}
	}
	if pc.DPoP {
		algs, err := p.DPoPAlgs(ctx)
		switch {
		case err != nil:
		case slices.Contains(algs, "ES256"):
			report(true, "DPoP: the provider lists ES256 in dpop_signing_alg_values_supported; sessions' tokens are bound to a key of their own")
		default:
			report(false, "DPoP is on, but the provider's discovery lists no ES256 in dpop_signing_alg_values_supported ("+strings.Join(algs, ", ")+"): turn DPoP on at the provider, or unset the provider's _DPOP variable")
		}
	}
}

// checkClientKeys reports the private_key_jwt keys and compares them with
// the JWKS the running authbff publishes at <base>/jwks, when it answers.
func checkClientKeys(ctx context.Context, cfg *nextauth.Settings, pc nextauth.Provider, hc *http.Client, report func(bool, string)) {
	var kids []string
	for _, k := range pc.ClientKeys {
		kids = append(kids, k.KeyID)
	}
	report(true, "private_key_jwt: "+plural(len(kids), "key")+" parse (signing kid "+kids[0]+"); register "+cfg.Origin()+cfg.BasePath+"/jwks as the client's jwks_uri")
	u := cfg.Origin() + cfg.BasePath + "/jwks"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return
	}
	resp, err := hc.Do(req)
	if err != nil {
		report(true, "private_key_jwt: "+u+" does not answer (authbff not running here?): not compared")
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	set, err := jwk.Parse(body)
	if resp.StatusCode != http.StatusOK || err != nil {
		report(false, "private_key_jwt: "+u+" answers "+resp.Status+" without a JWK Set: is the running authbff configured with these keys?")
		return
	}
	for _, kid := range kids {
		if _, ok := set.LookupKeyID(kid); !ok {
			report(false, "private_key_jwt: the running authbff's "+u+" lacks the key "+kid+": restart it with the new key (keep the previous one listed during a rotation)")
			return
		}
	}
	report(true, "private_key_jwt: "+u+" publishes every configured key")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// reachable reports whether url answers an HTTP request at all (any status).
func reachable(ctx context.Context, hc *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(""))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}
