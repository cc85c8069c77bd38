package bff

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
)

// pageCSP is the policy of authbff's own HTML pages: no script at all, inline
// styles only, and forms may post to this origin only. (form-action is left
// out so the sign-in form's 302 to the IdP is not blocked.)
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'"

const layoutHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;padding:1rem}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:37rem;width:100%;min-width:0;overflow-wrap:break-word}
h1{font-size:1.4rem;margin-top:0}
button{font:inherit;background:#1f4fd1;color:#fff;border:0;border-radius:8px;padding:.7rem 1.2rem;cursor:pointer;width:100%;margin:.3rem 0}
button:focus-visible,a:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.error{background:#fdecea;border:1px solid #f5c2bd;border-radius:8px;padding:.8rem 1rem;margin-bottom:1rem}
.fix{background:#eef4ff;border:1px solid #c9d8ff;border-radius:8px;padding:.8rem 1rem;margin-bottom:1rem}
code{background:#f0f0f0;padding:.1rem .3rem;border-radius:4px;display:inline-block;max-width:100%;overflow-wrap:anywhere;line-height:1.3}
a{color:#1f4fd1}
@media (max-width:30rem){main{padding:1.5rem 1.25rem}.error,.fix{padding:.7rem .8rem}}
</style></head><body><main>{{template "body" .}}</main></body></html>`

const diagHTML = `{{define "diag"}}{{if .Diagnosis}}<div class="fix" id="diagnosis"><p><strong>The identity provider answered <code>{{.ProviderCode}}</code>.</strong></p>
<p><strong>Likely cause:</strong> {{breakable .Diagnosis.Cause}}</p><p><strong>How to fix it:</strong> {{breakable .Diagnosis.Fix}}</p></div>{{else if .ProviderCode}}<p>The identity provider answered <code>{{.ProviderCode}}</code>.</p>{{end}}{{end}}`

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
{{template "diag" .}}{{if .Retry}}<p><a id="retry" href="{{.Retry}}">Try again</a></p>{{end}}<p><a href="{{.Home}}">Back to the home page</a></p>{{end}}`,
		"verify": `{{define "body"}}<h1>Check your email</h1><p>A sign in link has been sent to your email address.</p><p><a href="{{.Home}}">{{.Home}}</a></p>{{end}}`,
	} {
		t := template.Must(template.New("layout").Funcs(template.FuncMap{"breakable": breakable}).Parse(layoutHTML))
		template.Must(t.Parse(diagHTML))
		pages[name] = template.Must(t.Parse(body))
	}
}

// breakable escapes s for HTML and lets a line break after each "/", so a
// URL in a diagnosis wraps between its segments on a phone instead of
// running off the page or breaking mid-word.
func breakable(s string) template.HTML {
	return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(s), "/", "/<wbr>"))
}

// renderPage writes one of authbff's own pages.
func (b *BFF) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, d nextauth.Page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" with the page's own form POSTs (Fetch's origin header
	// rules), and the sign-in and sign-out forms' same-origin check then
	// refuses them. Nothing goes to another origin either way.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages[name].ExecuteTemplate(w, "layout", d); err != nil {
		b.reqLog(w, r).Error("render page", "page", name, "err", err)
	}
}
