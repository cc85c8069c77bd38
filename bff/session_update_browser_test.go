package bff_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/authbff/authbff/internal/redistest"
)

// TestNextAuthReactUpdateAcrossInstances (issue 23): the real
// next-auth/react client (v4 and v5 bundles) signs ada in through the dev
// IdP on instance a and calls update({theme: "dark", name: "Mallory"});
// instance b, sharing Redis, then answers the session with theme "dark"
// and user.name unchanged.
func TestNextAuthReactUpdateAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chromium, redis-server and the next-auth fixture (skipped by -short)")
	}
	srv := redistest.Start(t)
	for _, flavor := range []string{"v4", "v5"} {
		t.Run(flavor, func(t *testing.T) {
			dir, _ := filepath.Abs(filepath.Join("..", "spa", "testdata", "nextauth", "dist-"+flavor))
			if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
				t.Fatalf("%s is not built (%v): run .ci/deps", dir, err)
			}
			env := map[string]string{"SESSION_STORE": srv.URL, "AUTH_SESSION_UPDATABLE": "theme", "AUTH_CLIENT_FLAVOR": flavor}
			b := startProv(t, env)
			env["SPA_DIR"] = dir
			a := startProvAs(t, env, "localhost")

			ctx, cancelT := context.WithTimeout(newChrome(t).root, 45*time.Second) // a real headless Chromium
			defer cancelT()
			if err := chromedp.Do(ctx,
				chromedp.Navigate(a.URL+"/"),
				chromedp.Click(chromedp.CSS("#signin"), chromedp.NodeVisible),
				chromedp.Click(chromedp.CSS(`[data-testid="login-ada"]`), chromedp.NodeVisible),
				chromedp.WaitVisible(chromedp.CSS("#protected-content")),
			); err != nil {
				t.Fatalf("browser sign-in: %v", err)
			}
			res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](
				`window.__nextauthUpdate({theme: "dark", name: "Mallory"})`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("update(): %v", err)
			}
			cs, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{a.URL}})
			var cookie string
			for _, c := range cs.Cookies {
				if strings.HasSuffix(c.Name, "session-token") {
					cookie = c.Name + "=" + c.Value
				}
			}
			if err != nil || cookie == "" {
				t.Fatalf("no session cookie in the browser (%v)", err)
			}
			req, _ := http.NewRequest(http.MethodGet, b.URL+"/api/auth/session", nil)
			req.Header.Set("Cookie", cookie)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			if m["theme"] != "dark" || user(m)["name"] != "Ada Lovelace" || strings.Contains(string(body), "Mallory") {
				t.Fatalf("instance b after update(): %s (update() answered %v)", body, res)
			}
		})
	}
}
