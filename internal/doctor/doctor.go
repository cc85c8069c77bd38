// Package doctor checks a configuration against the real identity
// providers - discovery, the registered callback URL and the client
// credentials - and prints each finding with its fix (`authbff doctor`).
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
)

// Run checks every provider (validated settings, as bff makes them) and
// reports whether all is well. Each line starts with "ok" or "FAIL"; a
// failure ends with "fix: " and what to change (see Report).
func Run(ctx context.Context, cfg *nextauth.Settings, providers []nextauth.Provider, hc *http.Client, w io.Writer) bool {
	r := &Report{}
	Check(ctx, r, cfg, providers, hc)
	r.WriteText(w)
	return r.OK()
}

// Check is Run's checks, adding its findings to r.
func Check(ctx context.Context, r *Report, cfg *nextauth.Settings, providers []nextauth.Provider, hc *http.Client) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	log := slog.New(slog.DiscardHandler)
	// report adds a finding; a failure's fix is its last argument.
	report := func(pass bool, id, what string, fix ...string) {
		r.Add(pass, id, what, strings.Join(fix, "; "))
	}
	for _, pc := range providers {
		cb := cfg.CallbackURL(pc.ID)
		p, err := nextauth.NewOIDCProvider(cfg, pc, hc, log)
		if err != nil {
			report(false, pc.ID, err.Error(), "correct the provider's settings named above")
			continue
		}
		checkKind(r, pc, p)
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		issuer := p.Issuer()
		if pc.LearnIssuer {
			pin := oidc.IssuerPinFile(cfg.DataDir, pc.ID)
			if issuer == "" {
				report(true, pc.ID, "issuer: not known yet - it is learned from the first sign-in through "+pc.CognitoDomain+
					" and pinned in "+pin+"; set COGNITO_ISSUER=https://cognito-idp.<region>.amazonaws.com/<poolId> to make it explicit")
			} else {
				report(true, pc.ID, "issuer: "+issuer+" learned from the first sign-in, pinned in "+pin+"; set COGNITO_ISSUER="+issuer+" to make it explicit")
			}
		}
		if issuer != "" {
			if err := p.Discover(cctx); err != nil {
				s := Summarize(err, hostOf(issuer), SettingFor(pc, issuer))
				report(false, pc.ID, "discovery of "+ShortURL(issuer)+" failed: "+s.What,
					s.Fix+" (the issuer exactly, no trailing slash unless the IdP has one)")
				cancel()
				continue
			}
			report(true, pc.ID, "discovery: issuer "+issuer+" answers and names itself exactly")
			checkSecurity(cctx, cfg, pc, p, hc, func(pass bool, what string) { report(pass, pc.ID, what) })
			if algs, err := p.IDTokenAlgs(cctx); err == nil {
				report(true, pc.ID, "ID tokens accepted when signed with "+strings.Join(algs, ", "))
			}
			if listed, requested, err := p.OfflineAccess(cctx); err == nil && listed && !requested {
				report(true, pc.ID, "the provider offers offline_access but the scopes do not ask for it: without a refresh token a session ends with its first access token (add offline_access to "+nextauth.ScopeVar(pc)+" if the provider needs it)")
			}
		}
		fail := func(where string, err error) (string, string) { return netFailure(pc, issuer, where, err) }
		checkCallback(cctx, p, &noRedirect, cb, fail, func(pass bool, what string, fix ...string) { report(pass, pc.ID, what, fix...) })
		checkClient(cctx, p, nextauth.ClientSettings(cfg, pc), fail, func(pass bool, what string, fix ...string) { report(pass, pc.ID, what, fix...) })
		cancel()
	}
}

// checkCallback opens the authorize URL the way a browser would, without
// following redirects: an IdP that does not know the callback URL answers
// with its own error page (Cognito: /error?error=redirect_mismatch) and the
// user would be stranded there.
func checkCallback(ctx context.Context, p *oidc.Provider, hc *http.Client, cb string, fail netFail, report func(bool, string, ...string)) {
	authURL, err := p.AuthCodeURL(ctx, oidc.RandomString(16), oidc.RandomString(16), oidc.NewVerifier(), nil)
	if err != nil {
		msg, fix := fail("cannot build the authorization URL", err)
		report(false, msg, fix)
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		msg, fix := fail("authorization endpoint unreachable", err)
		report(false, msg, fix)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	loc := resp.Header.Get("Location")
	switch {
	case strings.Contains(loc, "redirect_mismatch") || strings.Contains(string(body), "redirect_mismatch") ||
		strings.Contains(loc, "redirect_uri_mismatch") || strings.Contains(string(body), "redirect_uri_mismatch"):
		report(false, "callback URL "+cb+" is not registered", "add it exactly (no trailing slash) to the app client's Allowed callback URLs")
	case resp.StatusCode >= 400:
		report(false, fmt.Sprintf("the authorization endpoint answered %d to a sign-in for %s", resp.StatusCode, cb), "check the client id and the Allowed callback URLs")
	case strings.HasPrefix(loc, cb):
		if q := redirectQuery(loc); q.Get("error") != "" {
			report(false, "the IdP refused sign-ins: error="+q.Get("error")+" "+q.Get("error_description"), "check the app client's settings at the IdP (allowed flows and scopes)")
			return
		}
		report(true, "callback URL "+cb+" is accepted")
	default:
		report(true, "callback URL "+cb+" is accepted (the IdP shows its login page)")
	}
}

func redirectQuery(loc string) url.Values {
	u, err := url.Parse(loc)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// checkClient redeems a code that cannot exist: an IdP that accepts the
// client answers invalid_grant; invalid_client or unauthorized_client name a
// credential or app client setting to fix.
func checkClient(ctx context.Context, p *oidc.Provider, cs oidc.ClientSettings, fail netFail, report func(bool, string, ...string)) {
	_, err := p.Exchange(ctx, "authbff-doctor-"+oidc.RandomString(8), oidc.NewVerifier(), "")
	var te *oidc.Error
	switch {
	case errors.As(err, &te) && (te.Code == "invalid_grant" || te.Code == "bad_verification_code"):
		// bad_verification_code: GitHub's answer to a made-up code from a
		// known client (an unknown one gets incorrect_client_credentials).
		report(true, "token endpoint accepts the client id and secret")
	case errors.As(err, &te):
		msg, fix := "token endpoint answered "+te.Code, "check the client id, secret and auth style against the app client at the IdP"
		if d, ok := oidc.DiagnoseClient(te.Code, cs); ok {
			msg, fix = msg+": "+d.Cause, d.Fix
		}
		report(false, msg, fix)
	case err != nil:
		msg, fix := fail("token endpoint check failed", err)
		report(false, msg, fix)
	default:
		report(false, "the token endpoint accepted a made-up code: this is not an IdP to trust", "check the issuer variable names the IdP you meant")
	}
}
