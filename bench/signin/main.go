// Command signin drives complete NextAuth sign-ins against a running authbff
// whose provider is the standalone development IdP (`authbff devidp`), the
// way next-auth/react and a browser do: GET /api/auth/csrf, POST
// /api/auth/signin/cognito (json=true), GET the IdP's authorize URL, POST its
// login form for a demo user, GET authbff's callback, which sets the
// session cookie.
//
//	signin -url http://127.0.0.1:3000 -once
//	    prints the session cookie value of one fresh sign-in
//	signin -url http://127.0.0.1:3000 -c 4 -d 10s -pid <authbff pid> [-idp-pid <pid>]
//	    runs sign-ins from -c parallel clients for -d and prints sign-ins/s,
//	    latency and the CPU time authbff (and the IdP) spent per sign-in,
//	    read from /proc/<pid>/stat (utime+stime) before and after.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const cookieName = "next-auth.session-token"

var (
	formRe  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

func main() {
	base := flag.String("url", "http://127.0.0.1:3000", "authbff's origin")
	once := flag.Bool("once", false, "sign in once and print the session cookie value")
	conc := flag.Int("c", 4, "parallel clients")
	dur := flag.Duration("d", 10*time.Second, "how long to run")
	pid := flag.Int("pid", 0, "authbff's pid, for CPU time per sign-in")
	idpPid := flag.Int("idp-pid", 0, "the dev IdP's pid, for its CPU time per sign-in")
	user := flag.String("user", "ada", "demo user to sign in as")
	label := flag.String("label", "", "label printed with the result")
	flag.Parse()
	*base = strings.TrimRight(*base, "/")

	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	if *once {
		tok, err := signIn(tr, *base, *user)
		if err != nil {
			fatal(err)
		}
		if err := checkSession(tr, *base, tok); err != nil {
			fatal(err)
		}
		fmt.Println(tok)
		return
	}

	var (
		n, fails atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		firstErr error
	)
	cpu0, idp0 := cpuTicks(*pid), cpuTicks(*idpPid)
	start := time.Now()
	deadline := start.Add(*dur)
	var wg sync.WaitGroup
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if _, err := signIn(tr, *base, *user); err != nil {
					fails.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, idp1 := cpuTicks(*pid), cpuTicks(*idpPid)
	count := n.Load()
	if count == 0 {
		fatal(fmt.Errorf("no sign-in succeeded (%d failed): %v", fails.Load(), firstErr))
	}
	slices.Sort(lat)
	hz := 100.0 // USER_HZ; Linux reports /proc times in 1/100 s
	res := map[string]any{
		"label":          *label,
		"clients":        *conc,
		"seconds":        round(elapsed.Seconds(), 2),
		"signins":        count,
		"failures":       fails.Load(),
		"signins_per_s":  round(float64(count)/elapsed.Seconds(), 1),
		"p50_ms":         round(ms(lat[len(lat)/2]), 2),
		"p99_ms":         round(ms(lat[min(len(lat)-1, len(lat)*99/100)]), 2),
		"authbff_cpu_ms": nil,
		"idp_cpu_ms":     nil,
	}
	if *pid > 0 && cpu0 >= 0 && cpu1 >= 0 {
		res["authbff_cpu_ms"] = round(float64(cpu1-cpu0)/hz*1000/float64(count), 3)
	}
	if *idpPid > 0 && idp0 >= 0 && idp1 >= 0 {
		res["idp_cpu_ms"] = round(float64(idp1-idp0)/hz*1000/float64(count), 3)
	}
	if firstErr != nil {
		res["first_error"] = firstErr.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "signin:", err)
	os.Exit(1)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(v float64, places int) float64 {
	s := strconv.FormatFloat(v, 'f', places, 64)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// cpuTicks returns utime+stime of pid in clock ticks, -1 when unknown.
func cpuTicks(pid int) int64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	// After "(comm)": state is field 3, utime is 14 and stime 15 (1-based).
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return u + st
}

// signIn runs one complete sign-in with a fresh cookie jar and returns the
// session cookie value.
func signIn(tr http.RoundTripper, base, user string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// 1. CSRF token.
	resp, body, err := do(c, http.MethodGet, base+"/api/auth/csrf", nil)
	if err != nil {
		return "", err
	}
	var csrf struct{ CsrfToken string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &csrf) != nil || csrf.CsrfToken == "" {
		return "", fmt.Errorf("csrf: %d %.200s", resp.StatusCode, body)
	}
	// 2. signIn("cognito") with json=true.
	resp, body, err = do(c, http.MethodPost, base+"/api/auth/signin/cognito", url.Values{
		"csrfToken": {csrf.CsrfToken}, "callbackUrl": {base + "/"}, "json": {"true"},
	})
	if err != nil {
		return "", err
	}
	var start struct{ URL string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &start) != nil || start.URL == "" {
		return "", fmt.Errorf("signin: %d %.200s", resp.StatusCode, body)
	}
	// 3. The IdP's authorize endpoint: its login page.
	resp, body, err = do(c, http.MethodGet, start.URL, nil)
	if err != nil {
		return "", err
	}
	next := ""
	switch resp.StatusCode {
	case http.StatusOK:
		// 4. Submit the login form of user.
		action, form, err := loginForm(resp.Request.URL, string(body), user)
		if err != nil {
			return "", err
		}
		resp, body, err = do(c, http.MethodPost, action, form)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return "", fmt.Errorf("idp login: %d %.200s", resp.StatusCode, body)
		}
		next = location(resp)
	case http.StatusFound, http.StatusSeeOther:
		next = location(resp)
	default:
		return "", fmt.Errorf("idp authorize: %d %.200s", resp.StatusCode, body)
	}
	// 5. authbff's callback sets the session cookie.
	resp, body, err = do(c, http.MethodGet, next, nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("callback: %d %.300s", resp.StatusCode, body)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName && ck.Value != "" {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("callback: no %s cookie (Location %s)", cookieName, resp.Header.Get("Location"))
}

func do(c *http.Client, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func location(resp *http.Response) string {
	u, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return ""
	}
	return u.String()
}

// loginForm finds the dev IdP login page's form for user.
func loginForm(page *url.URL, body, user string) (string, url.Values, error) {
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[2], `data-testid="login-`+user+`"`) {
			continue
		}
		form := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			form.Set(in[1], html.UnescapeString(in[2]))
		}
		action, err := page.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return "", nil, err
		}
		return action.String(), form, nil
	}
	return "", nil, errors.New("idp login page: no form for user " + user)
}

// checkSession verifies GET /api/auth/session with the cookie shows a user.
func checkSession(tr http.RoundTripper, base, tok string) error {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v struct {
		User struct{ Email string }
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &v) != nil || v.User.Email == "" {
		return fmt.Errorf("session check: %d %.200s", resp.StatusCode, b)
	}
	return nil
}
