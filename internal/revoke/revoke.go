// Package revoke is `authbff sessions revoke`: it ends every session of a
// user through the running server's admin endpoint, or in the session store
// directly where that reaches the sessions.
package revoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/authbff/authbff/bff"
)

// adminTimeout bounds the whole call to the server's admin endpoint.
const adminTimeout = 15 * time.Second

// User ends every session of provider|sub and says where and how, on
// stdout when it ended them, on stderr when not; it returns the exit
// status (0 ended, 1 not, or not all).
// First through the running server (POST bff.AdminRevokePath on
// METRICS_ADDR, in the server's own store and cache); when no server
// answers, in the store directly only where that reaches the sessions: a
// Redis store always, a bolt file when no process holds it, a memory store
// never (its sessions live only inside the server). It never reports
// success while the sessions may live: then it exits 1.
func User(ctx context.Context, o bff.Options, metricsAddr, provider, sub string, stdout, stderr io.Writer) int {
	store := "SESSION_STORE=" + bff.RedactStoreSpec(o.StoreSpec)
	user := provider + "|" + sub
	why, answered := "", false // why the server was not used; whether one answered
	if addr, reason := adminTarget(metricsAddr); addr == "" {
		why = reason
	} else {
		ans, err := revokeViaServer(ctx, o, addr, provider, sub)
		if err == nil {
			fmt.Fprintf(stdout, "ended %d session(s) of %s in SESSION_STORE=%s via the server at %s\n", ans.Ended, user, ans.Store, addr)
			return 0
		}
		var se *serverError
		answered = errors.As(err, &se)
		why = err.Error()
	}
	shared := o.StoreSpec != "memory" && !strings.HasPrefix(o.StoreSpec, "bolt:")
	switch {
	case answered && !shared:
		fmt.Fprintf(stderr, "authbff sessions revoke: %s: sessions of %s in %s may still live\n", why, user, store)
		return 1
	case o.StoreSpec == "memory":
		fmt.Fprintf(stderr, "authbff sessions revoke: nothing ended: %s keeps sessions inside the running server, which this command reaches only through its admin endpoint on METRICS_ADDR; %s. "+
			"Run this command with the server's configuration (same METRICS_ADDR and NEXTAUTH_SECRET) while the server runs\n", store, why)
		return 1
	}
	s, err := bff.OpenStore(o.StoreSpec)
	if errors.Is(err, bff.ErrStoreLocked) {
		fmt.Fprintf(stderr, "authbff sessions revoke: nothing ended: a server holds %s, but %s. "+
			"Run this command with the server's METRICS_ADDR and NEXTAUTH_SECRET, or stop the server first\n", store, why)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "authbff sessions revoke: nothing ended: %v\n", err)
		return 1
	}
	defer s.Close()
	// Through a BFF of the server's configuration, so that each ended
	// session's refresh token is revoked at its IdP, as the server does.
	o.Store = s
	b, err := bff.New(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "authbff sessions revoke: nothing ended: %v\n", err)
		return 1
	}
	n, err := b.EndUserSessions(ctx, provider, sub)
	_ = b.Close() // waits for the revocations at the IdP
	if err != nil {
		fmt.Fprintf(stderr, "authbff sessions revoke: %s directly: ended %d session(s) of %s, then: %v (some sessions may still live: run it again)\n", store, n, user, err)
		return 1
	}
	fmt.Fprintf(stdout, "ended %d session(s) of %s in %s directly (not via a server: %s)\n", n, user, store, why)
	return 0
}

// adminTarget is the host:port to reach the admin endpoint at for
// METRICS_ADDR addr, or "" and why not. An unspecified host (a listener on
// every interface) is reached on loopback.
func adminTarget(addr string) (target, why string) {
	if addr == "" {
		return "", "METRICS_ADDR is off (set empty), so there is no admin endpoint to reach the running server through"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Sprintf("METRICS_ADDR=%s is not host:port", addr)
	}
	if port == "0" {
		return "", fmt.Sprintf("METRICS_ADDR=%s picks a free port at each start, so the running server's admin endpoint cannot be found", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port), ""
}

// serverError is an answer of the admin endpoint other than 200: a server
// is there, and did not (fully) act.
type serverError struct {
	addr   string
	status int
	ans    bff.AdminRevokeAnswer
}

func (e *serverError) Error() string {
	switch e.status {
	case http.StatusUnauthorized:
		return fmt.Sprintf("the server at %s refused this command's admin credential (it runs with another NEXTAUTH_SECRET, or is not this authbff)", e.addr)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fmt.Sprintf("the server at %s has no admin endpoint %s (an older authbff, or not authbff)", e.addr, bff.AdminRevokePath)
	case http.StatusServiceUnavailable:
		return fmt.Sprintf("the server at %s ended %d session(s), then its session store %s failed", e.addr, e.ans.Ended, e.ans.Store)
	}
	return fmt.Sprintf("the server at %s answered %d %s", e.addr, e.status, e.ans.Message)
}

// revokeViaServer asks the server at addr to end the user's sessions. An
// error is a *serverError when the server answered.
func revokeViaServer(ctx context.Context, o bff.Options, addr, provider, sub string) (bff.AdminRevokeAnswer, error) {
	var ans bff.AdminRevokeAnswer
	cred, err := o.AdminCredential()
	if err != nil {
		return ans, fmt.Errorf("cannot authenticate to the server at %s: %w", addr, err)
	}
	body, _ := json.Marshal(bff.AdminRevokeRequest{Provider: provider, Sub: sub})
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+bff.AdminRevokePath, bytes.NewReader(body))
	if err != nil {
		return ans, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cred)
	// No proxy: the admin endpoint is on loopback or a private network.
	c := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Timeout: 3 * time.Second}).DialContext}}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return ans, fmt.Errorf("no server answered at %s (%w)", addr, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(raw, &ans)
	if resp.StatusCode != http.StatusOK || ans.Store == "" {
		return ans, &serverError{addr: addr, status: resp.StatusCode, ans: ans}
	}
	return ans, nil
}
