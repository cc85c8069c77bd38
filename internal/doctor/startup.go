package doctor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/authbff/authbff/internal/nextauth"
)

// Finding is one problem a start-up check found.
type Finding struct {
	// Provider is the provider id, "" for the session store.
	Provider string
	// Target is what was checked: an issuer, a Cognito domain or the store.
	Target string
	// What happened, and Fix what to change.
	What, Fix string
}

// StartupChecks is the quick check authbff runs once after it listens:
// each provider's discovery document and JWKS (for Cognito also its hosted
// UI domain: without a known issuer that is all there is to reach) and the
// session store's ping, all at once, each bounded by ctx. It returns the
// problems only; they are warnings, never a reason not to serve (an IdP
// outage at boot must not take the BFF down).
func StartupChecks(ctx context.Context, cfg *nextauth.Settings, providers []nextauth.Provider, hc *http.Client,
	ping func(context.Context) error, store string) []Finding {
	var (
		mu  sync.Mutex
		out []Finding
		wg  sync.WaitGroup
	)
	add := func(f Finding) {
		mu.Lock()
		out = append(out, f)
		mu.Unlock()
	}
	quiet := slog.New(slog.DiscardHandler)
	for _, pc := range providers {
		if pc.CognitoDomain != "" {
			wg.Go(func() {
				if f, bad := checkDomain(ctx, hc, pc); bad {
					add(f)
				}
			})
		}
		wg.Go(func() {
			p, err := nextauth.NewOIDCProvider(cfg, pc, hc, quiet)
			if err != nil {
				add(Finding{Provider: pc.ID, What: err.Error(), Fix: "correct the provider's settings"})
				return
			}
			issuer := p.Issuer()
			if issuer == "" {
				return // learned at the first sign-in; the domain check covers it
			}
			n, err := p.CheckKeys(ctx)
			switch {
			case err != nil:
				s := Summarize(err, hostOf(issuer), SettingFor(pc, issuer))
				add(Finding{Provider: pc.ID, Target: issuer, What: "discovery or JWKS of issuer " + issuer + " failed: " + s.What, Fix: s.Fix})
			case n == 0:
				add(Finding{Provider: pc.ID, Target: issuer, What: "the JWKS of issuer " + issuer + " holds no key: no ID token can be verified",
					Fix: "check " + SettingFor(pc, issuer) + " names the right issuer"})
			}
		})
	}
	if ping != nil {
		wg.Go(func() {
			if err := ping(ctx); err != nil {
				add(Finding{Target: store, What: fmt.Sprintf("session store %s does not answer: %s", store, Shorten(errText(err), maxWhat)),
					Fix: "check SESSION_STORE and that the store is running and reachable; until then sign-ins and session reads answer 503"})
			}
		})
	}
	wg.Wait()
	return out
}

// checkDomain asks the Cognito hosted UI domain for its login page: any
// HTTP answer means it is reachable.
func checkDomain(ctx context.Context, hc *http.Client, pc nextauth.Provider) (Finding, bool) {
	u := pc.CognitoDomain + "/login"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Finding{Provider: pc.ID, Target: pc.CognitoDomain, What: err.Error(), Fix: "correct COGNITO_DOMAIN"}, true
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		s := Summarize(err, hostOf(pc.CognitoDomain), SettingFor(pc, pc.CognitoDomain))
		return Finding{Provider: pc.ID, Target: pc.CognitoDomain, What: "Cognito domain " + pc.CognitoDomain + " unreachable: " + s.What, Fix: s.Fix}, true
	}
	resp.Body.Close()
	return Finding{}, false
}
