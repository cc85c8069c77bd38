package devidp

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
)

// errorPage is the content of an HTML error page: the IdP never redirects
// when it cannot trust the redirect_uri, it strands the user here as Cognito
// does.
type errorPage struct {
	Code, Message, Fix string
}

// loginButton is one demo user on the login page.
type loginButton struct {
	Username, Label, Email string
}

// hiddenField carries an authorize parameter through the login form.
type hiddenField struct {
	Name, Value string
}

const pageLayout = `{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>authbff development IdP</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
.banner{background:#8a3b00;color:#fff;padding:.6rem 1rem;text-align:center;font-weight:600}
main{max-width:26rem;margin:2.5rem auto;background:#fff;border-radius:.75rem;padding:1.75rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin:0 0 1rem}
p{line-height:1.5}
form{margin:0 0 .75rem}
button{width:100%;padding:.75rem 1rem;font-size:1rem;border:1px solid #2f4fbf;border-radius:.5rem;background:#3557d4;color:#fff;cursor:pointer;text-align:left}
button:hover,button:focus-visible{background:#2643ad;outline:3px solid #9fb3ff;outline-offset:2px}
.email{display:block;font-size:.85rem;opacity:.85}
code{background:#eef0f4;padding:.1rem .3rem;border-radius:.25rem}
.error{border-left:4px solid #b3261e;padding-left:1rem}
</style>
</head>
<body>
<div class="banner" role="note">development IdP - not for production</div>
{{end}}`

const loginPage = `{{template "head"}}<main>
<h1>Sign in</h1>
<p>Choose a demo user. No password is needed.</p>
{{range .Users}}<form method="post" action="{{$.Action}}">
{{range $.Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<input type="hidden" name="username" value="{{.Username}}">
<button type="submit" data-testid="login-{{.Username}}">Sign in as {{.Label}}{{if .Email}}<span class="email">{{.Email}}</span>{{end}}</button>
</form>
{{end}}</main>
</body>
</html>
`

const errorPageTmpl = `{{template "head"}}<main class="error" role="alert">
<h1>Sign-in error</h1>
<p>Error: <code data-testid="error-code">{{.Code}}</code></p>
<p>{{.Message}}</p>
<p><strong>What to do:</strong> {{.Fix}}</p>
</main>
</body>
</html>
`

// parsePages parses the login and error page templates.
func parsePages() (*template.Template, error) {
	t := template.New("pages")
	for name, src := range map[string]string{"layout": pageLayout, "login": loginPage, "error": errorPageTmpl} {
		if _, err := t.New(name).Parse(src); err != nil {
			return nil, fmt.Errorf("parse %s page: %w", name, err)
		}
	}
	return t, nil
}

// renderLogin shows the demo users, each a form POST to /login carrying the
// authorize parameters.
func (p *IdP) renderLogin(w http.ResponseWriter, _ *http.Request, req authRequest) {
	p.mu.Lock()
	users := make([]loginButton, 0, len(p.users))
	for _, u := range p.users {
		label := u.Name
		if label == "" {
			label = u.Username
		}
		users = append(users, loginButton{Username: u.Username, Label: label, Email: u.Email})
	}
	p.mu.Unlock()
	hidden := []hiddenField{
		{"client_id", req.clientID}, {"redirect_uri", req.redirectURI},
		{"response_type", req.responseType}, {"state", req.state}, {"nonce", req.nonce},
		{"scope", req.scope}, {"code_challenge", req.challenge},
		{"code_challenge_method", req.challengeMethod},
	}
	p.renderPage(w, http.StatusOK, "login", map[string]any{
		"Action": p.baseURL + "/login", "Users": users, "Hidden": hidden,
	})
}

// renderError shows an error page with status.
func (p *IdP) renderError(w http.ResponseWriter, status int, e *errorPage) {
	p.renderPage(w, status, "error", e)
}

// renderPage executes a template into a buffer first, so a failure yields a
// clean 500 rather than half a page.
func (p *IdP) renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.pages.ExecuteTemplate(&buf, name, data); err != nil {
		p.log.Error("devidp render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// No form-action: browsers apply it to the redirect after the login POST,
	// which goes to the app's callback on another origin.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
