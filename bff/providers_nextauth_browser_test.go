package bff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestNextAuthReactSignInGitHub: the real next-auth/react client (v4 and
// v5 bundles of spa/testdata/nextauth, served with SPA_DIR) calls
// signIn('github') in headless Chromium; the GitHub Enterprise fake signs
// the user in and the protected page shows the verified e-mail.
func TestNextAuthReactSignInGitHub(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chromium and the next-auth fixture (skipped by -short)")
	}
	for _, flavor := range []string{"v4", "v5"} {
		t.Run(flavor, func(t *testing.T) {
			dir, _ := filepath.Abs(filepath.Join("..", "spa", "testdata", "nextauth", "dist-"+flavor))
			if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
				t.Fatalf("%s is not built (%v): run .ci/deps", dir, err)
			}
			g := newFakeGitHub(t)
			env := githubEnv(g)
			env["SPA_DIR"], env["AUTH_CLIENT_FLAVOR"] = dir, flavor
			app := startProvAs(t, env, "localhost")

			ctx, cancelT := context.WithTimeout(newChrome(t).root, 30*time.Second) // a real headless Chromium
			defer cancelT()
			if err := chromedp.Do(ctx,
				chromedp.Navigate(app.URL+"/?provider=github"),
				chromedp.Click(chromedp.CSS("#signin"), chromedp.NodeVisible),
			); err != nil {
				t.Fatalf("browser: %v", err)
			}
			var href, text string
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				ectx, cancelE := context.WithTimeout(ctx, 2*time.Second)
				out, err := chromedp.Run(ectx, chromedp.Evaluate[[]string](`[location.href, document.querySelector("#protected-content")?.textContent ?? ""]`))
				cancelE()
				if err == nil && len(out) == 2 {
					href, text = out[0], out[1]
					if text != "" {
						break
					}
				}
			}
			if !strings.HasSuffix(href, "/protected") || !strings.Contains(text, "octocat@example.com") {
				t.Fatalf("ended at %s showing %q; want the protected page signed in as octocat@example.com", href, text)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.AuthQuery.Get("client_id") != "ghid" {
				t.Errorf("GitHub's authorize was not reached through signIn('github'): %v", g.AuthQuery)
			}
		})
	}
}
