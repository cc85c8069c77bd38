package nextauth

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// MaxFlows bounds the sign-ins a browser may have in progress at once (tabs,
// repeated clicks): each is a cookie sent with every request for 15 minutes.
const MaxFlows = 4

// StartSignIn is POST /signin/:provider after CheckForm: it starts a flow
// (state, PKCE verifier, nonce, the validated callbackUrl) sealed in a
// cookie of its own and returns the IdP's authorization URL. extra holds
// the authorization parameters of signIn()'s third argument (the request's
// query); protected ones cannot be overridden. An unknown provider is an
// *Error whose URL is the flavour's answer.
func (c *Core) StartSignIn(ctx context.Context, r *Request, id string, body url.Values) (string, error) {
	p := c.providers[id]
	if p == nil {
		if c.flavor == auth.FlavorV5 {
			return "", &Error{Code: CodeConfiguration, Message: "unknown provider", URL: c.ErrorURL(auth.ErrConfiguration, nil)}
		}
		return "", &Error{Code: CodeOAuthSignin, Message: "unknown provider", URL: c.base + "/signin?csrf=true"}
	}
	log := c.logger(r)
	callback := c.CallbackURL(r, body)
	flow := auth.Flow{
		Provider: id, State: oidc.RandomString(32), Verifier: oidc.NewVerifier(),
		Nonce: oidc.RandomString(32), CallbackURL: callback, Created: c.now(),
	}
	params := authParams(p.cfg.AuthorizationParams, r.Query)
	if err := stepUpFlow(&flow, params); err != nil {
		return "", c.pageError(CodeOAuthSignin, url.Values{"provider": {id}})
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	authURL, err := p.client.AuthCodeURL(ctx, flow.State, flow.Nonce, flow.Verifier, params)
	if err != nil {
		log.Error("sign-in: cannot build the authorization URL", "provider", id, "err", err)
		c.metrics.SignIn(id, string(CodeOAuthSignin))
		return "", &Error{Code: CodeOAuthSignin, Message: "the identity provider cannot be reached", Err: err,
			URL: c.ErrorURL(auth.ErrOAuthSignin, url.Values{"provider": {id}})}
	}
	name := c.names.FlowPrefix + "." + auth.FlowKey(flow.State)
	sealed, err := c.sealer.Load().Seal(name, flow)
	if errors.Is(err, auth.ErrCookieTooLarge) {
		// Whatever the callbackUrl, the flow cookie must fit the browser's
		// 4 KiB limit, or the sign-in would fail silently at the callback.
		log.Warn("sign-in: the callbackUrl does not fit the flow cookie; the user will land on the origin", "callback_url_len", len(flow.CallbackURL))
		flow.CallbackURL = c.origin
		sealed, err = c.sealer.Load().Seal(name, flow)
	}
	if err != nil {
		log.Error("sign-in: sealing flow state", "err", err)
		c.metrics.SignIn(id, string(CodeConfiguration))
		return "", &Error{Code: CodeConfiguration, Message: "cannot seal the sign-in state", Err: err,
			URL: c.ErrorURL(auth.ErrConfiguration, nil)}
	}
	c.pruneFlows(r)
	r.Cookies.Set(name, sealed, c.now().Add(auth.FlowMaxAge))
	return authURL, nil
}

// pruneFlows clears the request's oldest flow cookies (and unreadable ones)
// so that, with the one being started, at most MaxFlows remain.
func (c *Core) pruneFlows(r *Request) {
	type flowCookie struct {
		name    string
		created time.Time
	}
	var live []flowCookie
	for _, name := range r.Cookies.Names() {
		if c.names.Legacy.Ignored(name) {
			// Old __Secure- flow and callback cookies are never read (a
			// planted one is the login CSRF __Host- prevents): drop them.
			r.Cookies.Clear(name)
			continue
		}
		if !strings.HasPrefix(name, c.names.FlowPrefix+".") {
			continue
		}
		f, err := c.sealer.Load().Peek(name, r.Cookies.Get(name))
		if err != nil || c.now().Sub(f.Created) > auth.FlowMaxAge {
			r.Cookies.Clear(name)
			continue
		}
		live = append(live, flowCookie{name, f.Created})
	}
	if len(live) < MaxFlows {
		return
	}
	sort.Slice(live, func(i, j int) bool { return live[i].created.After(live[j].created) })
	for _, fc := range live[MaxFlows-1:] {
		r.Cookies.Clear(fc.name)
	}
}

// authParams merges a provider's default authorization parameters under
// the ones the client passed (signIn()'s third argument wins per key).
func authParams(defaults, query url.Values) url.Values {
	if len(defaults) == 0 {
		return query
	}
	out := url.Values{}
	for k, vs := range defaults {
		out[k] = append([]string(nil), vs...)
	}
	for k, vs := range query {
		out[k] = vs
	}
	return out
}
