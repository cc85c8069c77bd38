package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestSummarize(t *testing.T) {
	longURL := "https://myapp.auth.us-east-1.amazoncognito.com/oauth2/authorize?client_id=abc&redirect_uri=" + strings.Repeat("x", 300)
	wrap := func(err error) error {
		return fmt.Errorf("oidc: discovery: %w", &url.Error{Op: "Get", URL: longURL, Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}})
	}
	const domain = "COGNITO_DOMAIN (the Domain name of the user pool's app integration)"
	for _, c := range []struct {
		name      string
		err       error
		what, fix string
	}{
		{"dns", wrap(&net.DNSError{Err: "no such host", Name: "myapp.auth.us-east-1.amazoncognito.com", IsNotFound: true}),
			"cannot resolve myapp.auth.us-east-1.amazoncognito.com: check " + domain + " and this machine's DNS", "correct COGNITO_DOMAIN"},
		{"refused", wrap(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "h:1 refused the connection", "check COGNITO_DOMAIN (host and port)"},
		{"timeout", wrap(context.DeadlineExceeded), "no answer from h:1 in time", "firewall"},
		{"other", errors.New("oidc: " + longURL + ": http status 500"), "oidc: https://myapp.auth.us-east-1.amazoncognito.com/oauth2/authorize: http status 500", "check COGNITO_DOMAIN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Summarize(c.err, "h:1", domain)
			if !strings.HasPrefix(s.What, c.what) || !strings.Contains(s.Fix, c.fix) {
				t.Errorf("Summarize = %+v, want what %q, fix with %q", s, c.what, c.fix)
			}
			if strings.Contains(s.What, "client_id") || len(s.What) > maxWhat+100 {
				t.Errorf("summary keeps the query or is long: %q", s.What)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	in := "get https://u:p@idp.example.com/oauth2/authorize?client_id=abc&state=xyz#f failed; see https://cognito-idp.<region>.amazonaws.com/<poolId>."
	got := Shorten(in, 1000)
	want := "get https://idp.example.com/oauth2/authorize failed; see https://cognito-idp.<region>.amazonaws.com/<poolId>."
	if got != want {
		t.Errorf("Shorten = %q, want %q", got, want)
	}
	if s := Shorten(strings.Repeat("a", 500), 100); len(s) != 100 || !strings.HasSuffix(s, "...") {
		t.Errorf("Shorten to 100: %d bytes %q", len(s), s)
	}
}

// Every failure line ends with a fix, and no line is longer than MaxLine.
func TestReportLines(t *testing.T) {
	r := &Report{}
	r.Add(false, "cognito", "discovery of https://x.example.com/?"+strings.Repeat("q=1&", 200)+" failed: "+strings.Repeat("long error ", 60), "check COGNITO_ISSUER")
	r.Add(false, "config", "something without a fix", "")
	r.Add(true, "store", "fine", "")
	r.Warn("config", "X is set", "rename it")
	var b strings.Builder
	r.WriteText(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || r.OK() {
		t.Fatalf("lines %q, ok %v", lines, r.OK())
	}
	for _, l := range lines {
		if len(l) > MaxLine {
			t.Errorf("line of %d bytes: %q", len(l), l)
		}
		if strings.HasPrefix(l, "FAIL") && !strings.Contains(l, " - fix: ") {
			t.Errorf("failure without a fix: %q", l)
		}
	}
	if !strings.HasPrefix(lines[2], "ok   [store] fine") || strings.Contains(lines[2], "fix:") {
		t.Errorf("ok line %q", lines[2])
	}
}
