package bff_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stepTimeout bounds every wait of a browser step; a journey that is slower
// than this is broken, not slow.
const stepTimeout = 15 * time.Second

// chromiumPath finds the Chromium binary. A missing browser is a failure,
// never a skip: `make deps` (.ci/deps) installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Chromium (skipped by -short)")
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: install chromium: apt-get install -y chromium (or run make deps)")
	return ""
}

// chrome is one headless Chromium process; tabs are its page targets.
type chrome struct {
	t     *testing.T
	alloc context.Context
	root  context.Context // the first tab; the browser lives as long as it
	shots string          // screenshot directory
	n     int             // screenshot counter, keeps files in step order

	mu   sync.Mutex
	logs []string // console errors, exceptions, CSP reports of every tab
}

// newChrome starts a real headless Chromium with a fresh profile.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-default-browser-check", true),
		// Hermetic: only loopback resolves (the app on localhost, fake
		// providers on 127.0.0.1); anything else (the dev IdP's avatar on
		// upload.wikimedia.org) fails at once instead of waiting for DNS.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(900, 700),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
	})
	c := &chrome{t: t, alloc: alloc, root: root, shots: screenshotDir(t)}
	// The first Do launches the browser. It must get root itself: a browser
	// started under a derived (timeout) context dies with that context.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	c.listen(root, "tabA")
	return c
}

// newTab opens another page target in the same browser (same profile,
// cookies and storage), like a user opening a second tab.
func (c *chrome) newTab(name string) context.Context {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.root)
	c.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		c.t.Fatalf("open tab %s: %v", name, err)
	}
	c.listen(ctx, name)
	return ctx
}

// listen records console errors and warnings, uncaught exceptions and
// browser log entries (CSP violations, failed loads) of a tab, until the
// test ends.
func (c *chrome) listen(ctx context.Context, tab string) {
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
			default:
				continue
			}
			c.mu.Lock()
			c.logs = append(c.logs, tab+": "+m.String()+" "+m.URL)
			c.mu.Unlock()
		}
	}()
}

// cspViolations returns the logged Content-Security-Policy violations.
func (c *chrome) cspViolations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.logs {
		if strings.Contains(l, "Content Security Policy") {
			out = append(out, l)
		}
	}
	return out
}

func (c *chrome) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.logs) == 0 {
		return "(no console errors)"
	}
	return strings.Join(c.logs, "\n")
}

// run runs actions in a tab within stepTimeout, failing the test with what
// the page shows when they fail.
func (c *chrome) run(ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		c.fail(ctx, step, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) in a tab.
func eval[T any](c *chrome, ctx context.Context, step, expr string) T {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		c.fail(ctx, step, err)
	}
	return v
}

// fail reports a failed step with the page's URL, status and text, saves a
// screenshot of it, and the console log.
func (c *chrome) fail(ctx context.Context, step string, err error) {
	c.t.Helper()
	c.shot(ctx, "FAILED-"+step)
	c.t.Fatalf("%s: %v\npage: %s\nconsole:\n%s", step, err, c.describe(ctx), c.logText())
}

func (c *chrome) describe(ctx context.Context) string {
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(dctx, chromedp.Evaluate[string](`location.href + " #status=" + (document.querySelector("#status")?.textContent ?? "-") + " text=" + JSON.stringify((document.body?.innerText ?? "").slice(0, 400))`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// waitJS polls a JavaScript boolean expression until it is true. Errors of
// single evaluations (a navigation destroying the context) are retried.
func (c *chrome) waitJS(ctx context.Context, step, expr string) {
	c.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var ok bool
		ok, lastErr = chromedp.Run(ectx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`); } catch (e) { return false; } })()`))
		cancel()
		if lastErr == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("timed out after %s waiting for %s", stepTimeout, expr)
	}
	c.fail(ctx, step, lastErr)
}

// waitPage waits until the page at path (location.pathname) shows the
// session status want ("authenticated" / "unauthenticated").
func (c *chrome) waitPage(ctx context.Context, step, path, status string) {
	c.t.Helper()
	c.waitJS(ctx, step, fmt.Sprintf(`location.pathname === %q && document.readyState === "complete" && document.querySelector("#status")?.textContent === %q`, path, status))
}

// text returns an element's trimmed text content.
func (c *chrome) text(ctx context.Context, step, sel string) string {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		c.fail(ctx, step, err)
	}
	return strings.TrimSpace(s)
}

// click clicks an element with a real (CDP) mouse event once it is visible.
func (c *chrome) click(ctx context.Context, step, sel string) {
	c.t.Helper()
	c.run(ctx, step, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// shot saves a PNG of the tab's viewport as
// $CI_OUT/screenshots/<test>-<nn>-<step>.png.
func (c *chrome) shot(ctx context.Context, step string) {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		c.t.Logf("screenshot %s: %v", step, err)
		return
	}
	c.n++
	name := fmt.Sprintf("%s-%02d-%s.png", fileSafe(c.t.Name()), c.n, fileSafe(step))
	if err := os.WriteFile(filepath.Join(c.shots, name), png, 0o644); err != nil {
		c.t.Errorf("screenshot %s: %v", step, err)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileSafe(s string) string { return strings.Trim(unsafeName.ReplaceAllString(s, "_"), "_") }

// screenshotDir is $CI_OUT/screenshots (created), else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CI_OUT")
	if base == "" {
		base = t.TempDir()
	}
	dir := filepath.Join(base, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
