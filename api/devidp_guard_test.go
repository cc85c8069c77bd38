package api

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbff/authbff/internal/config"
)

const devDiscovery = "/_devidp/us-east-1_authbffdev/.well-known/openid-configuration"

// TestDevIdPRefusedInProduction (issue 19): the binary with
// NODE_ENV=production and no provider does not start, and says how to
// configure one or opt in; with AUTHBFF_DEV_IDP=1 it starts and serves the
// development IdP.
func TestDevIdPRefusedInProduction(t *testing.T) {
	env := map[string]string{"PORT": "0", "AUTHBFF_DATA_DIR": t.TempDir(), "METRICS_ADDR": "", "NODE_ENV": "production",
		"SESSION_STORE": "memory", "SHUTDOWN_DRAIN_DELAY": "1ms"}
	ln := listenLoopback(t)
	m, err := New(Options{Source: envSource(env, t.TempDir()), Listener: ln, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		m.Close()
		t.Fatal("started the development IdP with NODE_ENV=production and no provider")
	}
	ln.Close()
	var probs *config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %T %v, want *config.Problems", err, err)
	}
	for _, want := range []string{"NODE_ENV: is production, but no identity provider is configured",
		"COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "AUTH_<ID>_ISSUER", "AUTH_<ID>_SECRET", "AUTHBFF_DEV_IDP=1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}

	env["AUTHBFF_DEV_IDP"] = "1"
	m, err = New(Options{Source: envSource(env, t.TempDir()), Listener: listenLoopback(t), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatalf("AUTHBFF_DEV_IDP=1 in production: %v", err)
	}
	app := runMain(t, m)
	if r := newBrowser(t).Get(app.URL + devDiscovery); r.StatusCode != http.StatusOK {
		t.Fatalf("development IdP with AUTHBFF_DEV_IDP=1: %d %s", r.StatusCode, r.Body)
	}
}

// TestDevIdPRefusesNetworkPeers (issue 19): listening on every interface
// (HOST=0.0.0.0), the development IdP refuses a client connecting from a
// non-loopback address of this machine, even with Host: localhost, and
// still serves loopback clients and authbff's own calls (a full sign-in).
func TestDevIdPRefusesNetworkPeers(t *testing.T) {
	local := nonLoopbackIPv4(t)
	env := map[string]string{"HOST": "0.0.0.0", "PORT": "0", "AUTHBFF_DATA_DIR": t.TempDir(), "METRICS_ADDR": "",
		"SESSION_STORE": "memory", "SHUTDOWN_DRAIN_DELAY": "1ms"}
	m, err := New(Options{Source: envSource(env, t.TempDir()), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	app := runMain(t, m)
	port := m.listener.Addr().(*net.TCPAddr).Port

	for _, host := range []string{"localhost", "localhost:" + strconv.Itoa(port), "127.0.0.1:" + strconv.Itoa(port)} {
		code, body := rawGet(t, &net.TCPAddr{IP: local}, net.JoinHostPort(local.String(), strconv.Itoa(port)), host, devDiscovery)
		if code != http.StatusForbidden || !strings.Contains(body, "devidp_loopback_only") {
			t.Errorf("from %s with Host %s: %d %s, want 403 devidp_loopback_only", local, host, code, body)
		}
	}
	// The same request from loopback is served, and a whole sign-in works
	// (authbff's token and JWKS calls to its own IdP).
	code, body := rawGet(t, nil, "127.0.0.1:"+strconv.Itoa(port), "localhost:"+strconv.Itoa(port), devDiscovery)
	if code != http.StatusOK || !strings.Contains(body, `"issuer"`) {
		t.Fatalf("from loopback: %d %s", code, body)
	}
	b := newBrowser(t)
	b.SignInAs(app.URL, "ada")
	if name, _ := b.SessionUser(app.URL); name != "Ada Lovelace" {
		t.Fatalf("signed in as %q", name)
	}
}

// nonLoopbackIPv4 is an IPv4 address of this machine that is not loopback.
func nonLoopbackIPv4(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("net.InterfaceAddrs: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.To4()
		}
	}
	t.Fatalf("this machine has no non-loopback IPv4 address to connect from (interface addresses: %v); the test needs one", addrs)
	return nil
}

// rawGet sends GET path with the given Host header to addr from local (nil:
// any) and returns the status and body.
func rawGet(t *testing.T, local *net.TCPAddr, addr, host, path string) (int, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = local
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %v: %v", addr, local, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
