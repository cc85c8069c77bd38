package main

import (
	"html/template"
	"io"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
)

// pageCSP is the policy of authbff's own HTML pages: no script at all, inline
// styles only, and forms may post to this origin only. (form-action is left
// out so the sign-in form's 302 to the IdP is not blocked.)
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'"

const layoutHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:32rem;width:100%}
h1{font-size:1.4rem;margin-top:0}
button{font:inherit;background:#1f4fd1;color:#fff;border:0;border-radius:8px;padding:.7rem 1.2rem;cursor:pointer;width:100%;margin:.3rem 0}
button:focus-visible,a:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.error{background:#fdecea;border:1px solid #f5c2bd;border-radius:8px;padding:.8rem 1rem;margin-bottom:1rem}
.fix{background:#eef4ff;border:1px solid #c9d8ff;border-radius:8px;padding:.8rem 1rem;margin-bottom:1rem}
code{background:#f0f0f0;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
a{color:#1f4fd1}
</style></head><body><main>{{template "body" .}}</main></body></html>`

const diagHTML = `{{define "diag"}}{{if .Diagnosis}}<div class="fix" id="diagnosis"><p><strong>The identity provider answered <code>{{.ProviderCode}}</code>.</strong></p>
<p><strong>Likely cause:</strong> {{.Diagnosis.Cause}}</p><p><strong>How to fix it:</strong> {{.Diagnosis.Fix}}</p></div>{{else if .ProviderCode}}<p>The identity provider answered <code>{{.ProviderCode}}</code>.</p>{{end}}{{end}}`

// pages holds one template set per page: the layout, the diagnosis block
// and that page's body.
var pages = map[string]*template.Template{}

func init() {
	for name, body := range map[string]string{
		"signin": `{{define "body"}}<h1>Sign in</h1>
{{if .Error}}<div class="error" role="alert" id="error" data-code="{{.Error}}"><p>{{.Message}}</p>{{template "diag" .}}</div>{{end}}
{{range .Providers}}<form action="{{.SigninURL}}" method="POST">
<input type="hidden" name="csrfToken" value="{{$.CSRF}}"><input type="hidden" name="callbackUrl" value="{{$.CallbackURL}}">
<button type="submit" id="signin-{{.ID}}">Sign in with {{.Name}}</button></form>
{{end}}{{end}}`,
		"signout": `{{define "body"}}<h1>Sign out</h1><p>Are you sure you want to sign out?</p>
<form action="{{.Base}}/signout" method="POST"><input type="hidden" name="csrfToken" value="{{.CSRF}}"><input type="hidden" name="callbackUrl" value="{{.CallbackURL}}">
<button type="submit" id="signout">Sign out</button></form>{{end}}`,
		"error": `{{define "body"}}<h1>{{.Heading}}</h1><div class="error" role="alert" id="error" data-code="{{.Error}}"><p>{{.Message}}</p></div>
{{template "diag" .}}<p><a href="{{.Home}}">Back to the home page</a></p>{{end}}`,
		"verify": `{{define "body"}}<h1>Check your email</h1><p>A sign in link has been sent to your email address.</p><p><a href="{{.Home}}">{{.Home}}</a></p>{{end}}`,
	} {
		t := template.Must(template.New("layout").Parse(layoutHTML))
		template.Must(t.Parse(diagHTML))
		pages[name] = template.Must(t.Parse(body))
	}
}

type pageData struct {
	Title, Heading, Error, Message, CSRF, CallbackURL, Base, Home, ProviderCode string
	Providers                                                                   []providerJSON
	Diagnosis                                                                   *oidc.Diagnosis
}

func (a *App) renderPage(c *gin.Context, status int, name string, d pageData) {
	d.Base, d.Home = a.base, a.origin
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.Status(status)
	if err := pages[name].ExecuteTemplate(c.Writer, "layout", d); err != nil {
		a.reqLog(c).Error("render page", "page", name, "err", err)
	}
}

// diagnosis fills the provider error code and, for Cognito-style token
// errors, the cause and fix, from the error URL's provider and code params.
func (a *App) diagnosis(q url.Values, d *pageData) {
	code := safeCode(q.Get("code"))
	if code == "" || code == "invalid_response" && q.Get("code") != "invalid_response" {
		return
	}
	d.ProviderCode = code
	id := q.Get("provider")
	if p := a.providers[id]; p != nil {
		if diag, ok := oidc.Diagnose(code, a.cfg.CallbackURL(id)); ok {
			d.Diagnosis = &diag
		}
	}
}

func (a *App) handleSigninPage(c *gin.Context) {
	q := c.Request.URL.Query()
	d := pageData{Title: "Sign in", CSRF: a.csrfToken(c), CallbackURL: a.callbackURL(c, url.Values{})}
	for _, id := range a.order {
		d.Providers = append(d.Providers, a.providerList()[id])
	}
	if e := q.Get("error"); e != "" {
		d.Error = safeCode(e)
		d.Message = auth.Message(d.Error)
		a.diagnosis(q, &d)
	}
	a.renderPage(c, http.StatusOK, "signin", d)
}

func (a *App) handleSignoutPage(c *gin.Context) {
	d := pageData{Title: "Sign out", CSRF: a.csrfToken(c), CallbackURL: a.callbackURL(c, url.Values{})}
	a.renderPage(c, http.StatusOK, "signout", d)
}

func (a *App) handleErrorPage(c *gin.Context) {
	q := c.Request.URL.Query()
	code := safeCode(q.Get("error"))
	if code == "" {
		code = auth.ErrDefault
	}
	if a.flavor == auth.FlavorV4 && auth.IsSigninError(code) {
		fwd := url.Values{"error": {code}}
		for _, k := range []string{"provider", "code"} {
			if v := q.Get(k); v != "" {
				fwd.Set(k, v)
			}
		}
		c.Redirect(http.StatusFound, a.base+"/signin?"+fwd.Encode())
		return
	}
	d := pageData{Title: "Error", Heading: "Unable to sign in", Error: code, Message: auth.Message(code)}
	if code == auth.ErrConfiguration {
		d.Heading = "Server error"
	} else if code == auth.ErrAccessDenied {
		d.Heading = "Access denied"
	}
	a.diagnosis(q, &d)
	a.renderPage(c, auth.ErrorStatus(code), "error", d)
}

func (a *App) handleVerifyRequest(c *gin.Context) {
	a.renderPage(c, http.StatusOK, "verify", pageData{Title: "Verify request"})
}

// handleLog takes the v4 client logger's beacon: bounded, logged at debug.
func (a *App) handleLog(c *gin.Context) {
	b, _ := io.ReadAll(io.LimitReader(c.Request.Body, 8<<10))
	a.reqLog(c).Debug("client log", "body", string(b))
	c.Status(http.StatusOK)
}
