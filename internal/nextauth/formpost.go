package nextauth

import (
	"log/slog"
	"net/url"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// ResubmitField marks a form_post callback that authbff's own page posted
// again (see HasFlow): it is never answered with the page a second time.
const ResubmitField = "authbff_resubmit"

// HasFlow reports whether the request carries the flow cookie of params'
// state. A response_mode=form_post callback (Apple) is a cross-site POST,
// on which browsers do not send SameSite=Lax cookies: without the cookie
// the adapter answers a same-origin page that posts the same fields again
// (now same-site, so the cookies come), and the callback's checks (state
// bound to this browser's flow, provider, replay) run unchanged.
func (c *Core) HasFlow(r *Request, params url.Values) bool {
	state := params.Get("state")
	return state != "" && r.Cookies.Get(c.names.FlowPrefix+"."+auth.FlowKey(state)) != ""
}

// NeedsResubmit reports whether a POST callback for provider id should get
// the re-post page: the provider exists, the callback was not re-posted
// already, and its flow cookie did not come (HasFlow).
func (c *Core) NeedsResubmit(r *Request, id string, params url.Values) bool {
	return c.providers[id] != nil && !params.Has(ResubmitField) && !c.HasFlow(r, params)
}

// appleName keeps the name of Apple's first callback for a user: Apple
// sends it only there, in the "user" form field (JSON), never in the ID
// token. The ID token's own claims win.
func (c *Core) appleName(log *slog.Logger, cl *oidc.Claims, params url.Values) {
	if cl.DisplayName() != "" {
		return
	}
	name, err := oidc.ParseAppleUser(params.Get("user"))
	if err != nil {
		log.Warn("apple: unreadable user field; signing in without a name", "err", err)
		return
	}
	cl.Name = name
}
