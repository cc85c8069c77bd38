package doctor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
)

// Upstream is one upstream's token policy, as CheckUpstreams checks it.
type Upstream struct {
	// Name is the upstream's name (UPSTREAM_<NAME>, lower-case).
	Name string
	// Token is "user", "client", "user-or-client" or "none".
	Token string
	// Provider is the provider id ("": the first provider for client tokens).
	Provider string
	// Params are the grant's resource, scope and audience.
	Params url.Values
}

// CheckUpstreamPolicies checks each upstream's token policy against its
// provider: a client (or user-or-client) token is asked for once with a
// client credentials grant (the token is never printed); a user token with
// parameters can only be had for a signed-in user, which doctor says. It
// adds its findings to r.
func CheckUpstreamPolicies(ctx context.Context, r *Report, cfg *nextauth.Settings, providers []nextauth.Provider, ups []Upstream, hc *http.Client) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].Name < ups[j].Name })
	for _, u := range ups {
		id := "upstream " + u.Name
		report := func(pass bool, what string, fix ...string) {
			r.Add(pass, id, what, strings.Join(fix, "; "))
		}
		switch u.Token {
		case "none":
			report(true, "sends no token")
			continue
		}
		var pc *nextauth.Provider
		for i := range providers {
			if providers[i].ID == u.Provider || (u.Provider == "" && i == 0) {
				pc = &providers[i]
				break
			}
		}
		if (u.Token == "" || u.Token == "user") && (len(u.Params) == 0 || pc == nil) {
			report(true, "gets the session's access token")
			continue
		}
		if pc == nil {
			report(false, "no provider "+u.Provider+" for its client token", "set UPSTREAM_"+strings.ToUpper(u.Name)+"_PROVIDER to a configured provider id")
			continue
		}
		p, err := nextauth.NewOIDCProvider(cfg, *pc, hc, slog.New(slog.DiscardHandler))
		if err != nil {
			report(false, Shorten(err.Error(), 150), "correct the provider's settings")
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		grant := "client_credentials"
		if u.Token == "" || u.Token == "user" {
			grant = "refresh_token"
		}
		if why, err := p.CannotHonour(cctx, grant, u.Params); err != nil || why != "" {
			cancel()
			if err != nil {
				report(false, Shorten(fmt.Sprintf("discovery at %s failed: %v", pc.ID, err), 150), "check the provider's issuer and this machine's network")
			} else {
				report(false, pc.ID+" cannot give this upstream's token: "+why, "change the upstream's settings or the provider's")
			}
			continue
		}
		if grant == "refresh_token" {
			cancel()
			report(true, "gets a token of its own ("+u.Params.Encode()+") from a refresh grant at "+pc.ID+" at the first call of each session; sign-in asks for its resources")
			continue
		}
		if p.DPoP() {
			// authbff asks for its client tokens with a proof of an instance
			// key (a provider binding every token of the client wants one).
			if k, err := oidc.NewDPoPKey(); err == nil {
				cctx = oidc.WithDPoPKey(cctx, k)
			}
		}
		res, err := p.ClientCredentials(cctx, u.Params)
		cancel()
		if err != nil {
			report(false, Shorten(fmt.Sprintf("the client credentials grant at %s failed: %v", pc.ID, err), 150), "allow the client credentials grant for the client and the resource/scope ("+u.Params.Encode()+")")
			continue
		}
		exp := "no expiry given"
		if !res.Tokens.Expiry.IsZero() {
			exp = "valid " + time.Until(res.Tokens.Expiry).Round(time.Second).String()
		}
		report(true, "client credentials grant at "+pc.ID+" answers a token ("+exp+")")
	}
}
