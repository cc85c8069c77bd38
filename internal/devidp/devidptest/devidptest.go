// Package devidptest drives the development IdP's sign-in pages in tests:
// LoginForm finds a demo user's login form, SignIn walks a whole sign-in as
// next-auth/react and a browser do.
package devidptest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formRe  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

// LoginForm returns, from a dev IdP sign-in page (body, served at page),
// the form that signs user in (the one holding the button login-<user>):
// its action resolved against page, and its fields.
func LoginForm(page *url.URL, body, user string) (action string, form url.Values, err error) {
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[2], "login-"+user) {
			continue
		}
		a, err := page.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return "", nil, fmt.Errorf("login form action: %w", err)
		}
		form = url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			form.Set(in[1], html.UnescapeString(in[2]))
		}
		return a.String(), form, nil
	}
	return "", nil, fmt.Errorf("no dev IdP login form for %s in %.300q", user, body)
}

// SignIn signs user in at the authbff served at base (provider cognito, the
// dev IdP) as next-auth/react does: GET /api/auth/csrf, POST
// /api/auth/signin/cognito (json) with callbackURL ("" leaves it out), the
// IdP's page and user's login form, then authbff's callback. c must keep
// cookies and not follow redirects. It returns the callback's answer (body
// closed): on success a redirect to callbackURL, the session cookie set in
// c's jar.
func SignIn(c *http.Client, base, callbackURL, user string) (*http.Response, error) {
	resp, err := c.Get(base + "/api/auth/csrf")
	if err != nil {
		return nil, err
	}
	var csrf struct{ CsrfToken string }
	err = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("csrf: %d: %w", resp.StatusCode, err)
	}
	form := url.Values{"csrfToken": {csrf.CsrfToken}, "json": {"true"}}
	if callbackURL != "" {
		form.Set("callbackUrl", callbackURL)
	}
	resp, err = c.PostForm(base+"/api/auth/signin/cognito", form)
	if err != nil {
		return nil, err
	}
	var start struct{ URL string }
	err = json.NewDecoder(resp.Body).Decode(&start)
	resp.Body.Close()
	if err != nil || start.URL == "" {
		return nil, fmt.Errorf("signin: %d, no url (%v)", resp.StatusCode, err)
	}
	page, err := c.Get(start.URL)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	action, login, err := LoginForm(page.Request.URL, string(body), user)
	if err != nil {
		return nil, fmt.Errorf("IdP page %d: %w", page.StatusCode, err)
	}
	cb, err := c.PostForm(action, login)
	if err != nil {
		return nil, err
	}
	cb.Body.Close()
	loc, err := cb.Request.URL.Parse(cb.Header.Get("Location"))
	if err != nil || cb.Header.Get("Location") == "" {
		return nil, fmt.Errorf("IdP login answered %d without a redirect", cb.StatusCode)
	}
	done, err := c.Get(loc.String())
	if err != nil {
		return nil, err
	}
	done.Body.Close()
	return done, nil
}
