package nextauth

import (
	"net/url"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// ProviderJSON is one entry of GET /providers.
type ProviderJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SigninURL   string `json:"signinUrl"`
	CallbackURL string `json:"callbackUrl"`
}

// Providers returns GET /providers: every provider by id.
func (c *Core) Providers() map[string]ProviderJSON {
	out := make(map[string]ProviderJSON, len(c.order))
	for _, id := range c.order {
		p := c.providers[id]
		out[id] = ProviderJSON{
			ID: id, Name: p.cfg.Name, Type: p.cfg.Type(c.flavor),
			SigninURL:   c.base + "/signin/" + id,
			CallbackURL: c.cfg.CallbackURL(id),
		}
	}
	return out
}

// ProviderList returns the providers in their configured order.
func (c *Core) ProviderList() []ProviderJSON {
	all := c.Providers()
	out := make([]ProviderJSON, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, all[id])
	}
	return out
}

// Page is what authbff's own HTML pages (sign-in, sign-out, error) show.
type Page struct {
	Title, Heading, Error, Message, CSRF, CallbackURL, Base, Home, ProviderCode string
	Providers                                                                   []ProviderJSON
	Diagnosis                                                                   *oidc.Diagnosis
	// Retry, when set, is a link to try again (a store outage).
	Retry string
}

// SigninPage is GET /signin[/:provider].
func (c *Core) SigninPage(r *Request) Page {
	d := Page{Title: "Sign in", CSRF: c.CSRFToken(r), CallbackURL: c.CallbackURL(r, url.Values{}), Providers: c.ProviderList()}
	if e := r.Query.Get("error"); e != "" {
		d.Error = SafeCode(e)
		d.Message = auth.Message(d.Error)
		c.diagnosis(r.Query, &d)
	}
	return c.page(d)
}

// SignoutPage is GET /signout.
func (c *Core) SignoutPage(r *Request) Page {
	return c.page(Page{Title: "Sign out", CSRF: c.CSRFToken(r), CallbackURL: c.CallbackURL(r, url.Values{})})
}

// ErrorPage is GET /error: the page (its Error is the code shown; the
// adapter's table gives the status), or (v4, sign-in errors) a URL to
// redirect to instead.
func (c *Core) ErrorPage(q url.Values) (d Page, redirect string) {
	code := SafeCode(q.Get("error"))
	if code == "" {
		code = auth.ErrDefault
	}
	if c.flavor == auth.FlavorV4 && auth.IsSigninError(code) {
		fwd := url.Values{"error": {code}}
		for _, k := range []string{"provider", "code"} {
			if v := q.Get(k); v != "" {
				fwd.Set(k, v)
			}
		}
		return Page{}, c.base + "/signin?" + fwd.Encode()
	}
	d = Page{Title: "Error", Heading: "Unable to sign in", Error: code, Message: auth.Message(code)}
	if code == auth.ErrConfiguration {
		d.Heading = "Server error"
	} else if code == auth.ErrAccessDenied {
		d.Heading = "Access denied"
	}
	c.diagnosis(q, &d)
	return c.page(d), ""
}

// UnavailablePage is the page a navigation gets when the session store is
// down: nothing was lost, try again.
func (c *Core) UnavailablePage(retry string) Page {
	return c.page(Page{Title: "Try again", Heading: "Temporarily unavailable", Error: "Unavailable",
		Message: "The session store cannot be reached right now. Nothing was lost: try again in a few seconds.",
		Retry:   retry})
}

func (c *Core) page(d Page) Page {
	d.Base, d.Home = c.base, c.origin
	return d
}

// diagnosis fills the provider error code and, for token errors the
// provider's advice knows, the cause and fix, from the error URL's provider
// and code params.
func (c *Core) diagnosis(q url.Values, d *Page) {
	code := SafeCode(q.Get("code"))
	if code == "" || code == "invalid_response" && q.Get("code") != "invalid_response" {
		return
	}
	d.ProviderCode = code
	id := q.Get("provider")
	if p := c.providers[id]; p != nil {
		if diag, ok := oidc.DiagnoseClient(code, ClientSettings(c.cfg, p.cfg)); ok {
			d.Diagnosis = &diag
		}
	}
}

// VerifyPage is GET /verify-request (email sign-in is not offered; the page
// exists because the client may link to it).
func (c *Core) VerifyPage() Page { return c.page(Page{Title: "Verify request"}) }

// ClientSettings is what the diagnosis of a provider's token error needs:
// the provider's own words and variable names.
func ClientSettings(cfg *Settings, pc Provider) oidc.ClientSettings {
	id, secret, style, scope := providerVars(pc)
	return oidc.ClientSettings{
		ProviderID: pc.ID, ProviderName: pc.Name, Cognito: pc.Cognito, CallbackURL: cfg.CallbackURL(pc.ID),
		ClientIDVar: id, SecretVar: secret, AuthStyleVar: style, ScopeVar: scope,
	}
}
