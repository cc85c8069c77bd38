package bff

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbff/authbff/internal/metrics"
	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/validate"
)

// AdminRevokePath is the admin endpoint that ends every session of a user:
// POST with a JSON body {"provider","sub"} and the header
// "Authorization: Bearer <AdminCredential>". AdminHandler serves it.
const AdminRevokePath = "/admin/sessions/revoke"

// adminLabel is the HMAC message the admin credential is derived with; the
// version lets a later scheme refuse this one.
const adminLabel = "authbff admin v1"

// adminBodyLimit bounds the admin request body ({"provider","sub"}).
const adminBodyLimit = 4 << 10

// AdminRevokeRequest is the body of POST AdminRevokePath.
type AdminRevokeRequest struct {
	// Provider is the provider id the user signed in with.
	Provider string `json:"provider"`
	// Sub is the user's subject (the ID token's sub claim).
	Sub string `json:"sub"`
}

// AdminRevokeAnswer is the 200 answer of POST AdminRevokePath, and the
// body of its 503 (with Error set, Ended counting what ended before the
// fault).
type AdminRevokeAnswer struct {
	// Ended is how many sessions ended.
	Ended int `json:"ended"`
	// Store names the session store acted on (RedactStoreSpec).
	Store string `json:"store"`
	// Error is the error code of a failed revocation, "" on success.
	Error string `json:"error,omitempty"`
	// Message says what failed, "" on success.
	Message string `json:"message,omitempty"`
}

// AdminHandler serves the metrics listener: GET /metrics (Prometheus text:
// sign-ins, session reads, refreshes, proxy calls, store operations, Go and
// process collectors), /healthz, /readyz, and POST AdminRevokePath (ends a
// user's sessions; refused with 401 without the admin credential). Serve it
// on a listener of its own - never the public port - and keep that listener
// on loopback or a private network.
func (b *BFF) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", metrics.AdminHandler(b.metrics, func(ctx context.Context) error {
		if b.draining.Load() {
			return errDraining
		}
		return b.Ready(ctx)
	}))
	mux.HandleFunc("POST "+AdminRevokePath, b.handleAdminRevoke)
	return mux
}

// EndUserSessions ends every session of one user (provider id and the ID
// token's sub) in b's own store, through its session manager (the cache
// and, with Redis, every other instance's cache drop them), and returns how
// many ended. On a store fault it returns the count so far and an error
// wrapping ErrUnavailable.
func (b *BFF) EndUserSessions(ctx context.Context, provider, sub string) (int, error) {
	n, err := b.sessions.DeleteUser(ctx, session.UserKey(provider, sub))
	if err != nil {
		return n, fmt.Errorf("bff: end user sessions: %w", err)
	}
	if n > 0 {
		b.core.Emit(ctx, nextauth.Event{Kind: nextauth.EventSessionEnded, Provider: provider, Subject: sub, Reason: "revoked"})
	}
	return n, nil
}

// StoreName names b's session store for messages: its SESSION_STORE
// without a password (RedactStoreSpec), or "custom" for Options.Store.
func (b *BFF) StoreName() string {
	if !b.ownStore {
		return "custom"
	}
	return RedactStoreSpec(b.cfg.SessionStore)
}

func (b *BFF) handleAdminRevoke(w http.ResponseWriter, r *http.Request) {
	if !b.adminAuthorized(r) {
		// Never the header's value: a near miss may be a secret.
		b.log.Warn("admin: refused a request without a valid admin credential",
			"path", r.URL.Path, "remote", r.RemoteAddr, "authorization_sent", r.Header.Get("Authorization") != "")
		w.Header().Set("WWW-Authenticate", `Bearer realm="authbff admin"`)
		b.refuse(w, r, nextauth.CodeUnauthorized, "")
		return
	}
	var req AdminRevokeRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, adminBodyLimit))
	if err := dec.Decode(&req); err != nil || req.Provider == "" || req.Sub == "" {
		b.refuse(w, r, nextauth.CodeInvalidRequest, `send a JSON body {"provider":"<id>","sub":"<sub>"}`)
		return
	}
	store := b.StoreName()
	n, err := b.EndUserSessions(r.Context(), req.Provider, req.Sub)
	if err != nil {
		b.log.Error("admin: ending a user's sessions failed", "provider", req.Provider, "sub", req.Sub,
			"ended", n, "store", store, "err", err)
		writeErrorBody(w, nextauth.CodeStoreUnavailable, AdminRevokeAnswer{Ended: n, Store: store,
			Error: string(nextauth.CodeStoreUnavailable), Message: "the session store failed; some sessions may still live: retry"}, true)
		return
	}
	b.log.Info("admin: ended a user's sessions", "provider", req.Provider, "sub", req.Sub, "ended", n, "store", store)
	writeJSON(w, http.StatusOK, AdminRevokeAnswer{Ended: n, Store: store}, true)
}

// adminAuthorized reports whether r carries the credential of one of the
// BFF's secrets, compared in constant time.
func (b *BFF) adminAuthorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return false
	}
	match := 0
	for _, want := range b.keys.Load().admin {
		match |= subtle.ConstantTimeCompare([]byte(got), want)
	}
	return match == 1
}

// adminKeys are the admin credentials the secrets give, current first.
func adminKeys(secrets [][]byte) [][]byte {
	out := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, []byte(adminCredential(s)))
	}
	return out
}

// adminCredential is hex(HMAC-SHA256(secret, "authbff admin v1")): it
// proves knowledge of the secret without revealing it.
func adminCredential(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(adminLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// ErrNoAdminCredential is returned by Options.AdminCredential when neither
// a secret nor the development secret file exists.
var ErrNoAdminCredential = errors.New("bff: no secret to derive the admin credential from")

// AdminCredential returns the bearer credential AdminRevokePath accepts
// from a BFF configured like o: derived from the current secret, or in
// development from the secret file a BFF made in DataDir (never made
// here). It is no secret itself, but it lets its holder end sessions:
// never log it.
func (o Options) AdminCredential() (string, error) {
	if len(o.Secrets) > 0 {
		return adminCredential([]byte(o.Secrets[0])), nil
	}
	dir := o.DataDir
	if dir == "" {
		dir = "./data"
	}
	s, err := readDevSecret(dir)
	if err != nil {
		return "", fmt.Errorf("%w: NEXTAUTH_SECRET is not set and the development secret cannot be read: %w (run with the server's configuration)",
			ErrNoAdminCredential, err)
	}
	return adminCredential(s), nil
}

// readDevSecret reads the development secret kept in dataDir.
func readDevSecret(dataDir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "dev-secret"))
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 64 {
		return nil, errors.New("too short to be a development secret")
	}
	return []byte(s), nil
}

// RedactStoreSpec names a SESSION_STORE for messages: memory and
// bolt:<path> as they are, a Redis URL without its password.
func RedactStoreSpec(spec string) string {
	if spec == "memory" || strings.HasPrefix(spec, "bolt:") {
		return spec
	}
	return validate.RedactURL(spec)
}
