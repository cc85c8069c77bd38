package bff_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAppleFormPostInChromium: Sign in with Apple in real headless
// Chromium with authbff's default cookies (SameSite=Lax): the app is on
// localhost, the Apple-shaped OP on 127.0.0.1 (another site), whose
// authorization page POSTs the callback cross-site as Apple does. The flow
// completes and the session shows the name from the user field.
func TestAppleFormPostInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chromium (skipped by -short)")
	}
	keyFile, pub := appleKey(t)
	op := newAppleOP(t, pub)
	op.FormPost = true
	op.FormUser = `{"name":{"firstName":"Tim","lastName":"Apple"},"email":"x7k2@privaterelay.appleid.com"}`
	app := startProvAs(t, appleEnv(op, keyFile), "localhost")

	ctx, cancelT := context.WithTimeout(newChrome(t).root, 30*time.Second) // a real headless Chromium
	defer cancelT()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/api/auth/signin?callbackUrl=%2Fapi%2Fauth%2Fsession"),
		chromedp.Click(chromedp.CSS("#signin-apple"), chromedp.NodeVisible),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	var body, href string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ectx, cancelE := context.WithTimeout(ctx, 2*time.Second)
		out, err := chromedp.Run(ectx, chromedp.Evaluate[[]string](`[location.href, document.readyState === "complete" ? document.body.innerText : ""]`))
		cancelE()
		if err == nil && len(out) == 2 {
			href, body = out[0], out[1]
			if body != "" && (strings.Contains(href, "/api/auth/session") || strings.Contains(href, "error")) {
				break
			}
		}
	}
	var s struct{ User map[string]any }
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &s); err != nil || s.User["name"] != "Tim Apple" {
		t.Fatalf("ended at %s with %q; want the session of Tim Apple", href, body)
	}
	if s.User["email"] != "x7k2@privaterelay.appleid.com" {
		t.Errorf("session e-mail %v", s.User["email"])
	}
}
