package bff

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"sort"

	"github.com/authbff/authbff/internal/nextauth"
)

// A response_mode=form_post callback (Sign in with Apple) is a POST from
// the provider's site: browsers do not send SameSite=Lax cookies with a
// cross-site POST, so the flow cookie that binds the state to this browser
// is missing. Rather than weakening the cookies (SameSite=None) or the
// checks, authbff answers such a POST with a tiny same-origin page that
// posts the same fields again to the same URL: that POST starts on
// authbff's own origin, so it is same-site and carries the cookies, and the
// callback then runs every check unchanged (no flow for the state in this
// browser: refused, as any login CSRF). The page is answered once per
// callback (the re-post is marked), so nothing loops.

// resubmitScript submits the page's form; the page's CSP allows exactly it.
const resubmitScript = `document.getElementById("f").submit()`

var (
	resubmitCSP = "default-src 'none'; script-src 'sha256-" + scriptHash(resubmitScript) + "'; style-src 'unsafe-inline'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	resubmitPage = template.Must(template.New("resubmit").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head>
<body><form id="f" method="POST" action="{{.Action}}">{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<noscript><button type="submit">Continue signing in</button></noscript></form>
<script>` + resubmitScript + `</script></body></html>`))
)

func scriptHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// maxResubmitFields bounds the fields a re-posted callback carries
// (Apple sends code, state, id_token and user).
const maxResubmitFields = 16

// resubmitFormPost answers a POST callback that arrived without its flow
// cookie with the page that posts it again; it reports whether it did.
func (b *BFF) resubmitFormPost(w http.ResponseWriter, r *http.Request, req *nextauth.Request, provider string, params url.Values) bool {
	if r.Method != http.MethodPost || len(params) > maxResubmitFields || !b.core.NeedsResubmit(req, provider, params) {
		return false
	}
	type field struct{ Name, Value string }
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fields []field
	for _, k := range keys {
		for _, v := range params[k] {
			fields = append(fields, field{k, v})
		}
	}
	fields = append(fields, field{nextauth.ResubmitField, "1"})
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", resubmitCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	action := b.core.Base() + "/callback/" + url.PathEscape(provider)
	if err := resubmitPage.Execute(w, map[string]any{"Action": action, "Fields": fields}); err != nil {
		b.reqLog(w, r).Error("render the form_post resubmit page", "err", err)
	}
	return true
}
