package bff

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/nextauth"
	"github.com/authbff/authbff/internal/oidc"
)

// devIdPPath is where the embedded development IdP is mounted.
const devIdPPath = "/_devidp"

// devClientID is the development IdP's app client id.
const devClientID = "authbff-dev"

// startDevIdP makes the embedded development IdP and the Cognito provider
// pointing at it; it also adds the "demo" upstream (the IdP's demo API) so
// /api/proxy/demo/me works out of the box.
func (b *BFF) startDevIdP() (nextauth.Provider, error) {
	cfg := b.cfg
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nextauth.Provider{}, err
	}
	origin := cfg.Origin()
	do := devidp.Options{
		BaseURL: origin + devIdPPath,
		Clients: []devidp.Client{{
			ID:           devClientID,
			Secret:       hex.EncodeToString(secret),
			RedirectURIs: []string{cfg.CallbackURL("cognito")},
			LogoutURLs:   []string{origin, origin + "/"},
		}},
		Logger: b.log.With("component", "devidp"),
	}
	if cfg.DataDir != "" {
		// Keys and refresh tokens survive a restart, like the sessions.
		do.StateFile = filepath.Join(cfg.DataDir, "devidp-state.json")
	}
	idp, err := devidp.New(do)
	if err != nil {
		return nextauth.Provider{}, fmt.Errorf("bff: development IdP: %w", err)
	}
	b.devidp = idp
	b.devidpPeers = cfg.DevIdPAllowCIDRs
	if len(b.devidpPeers) > 0 {
		nets := make([]string, len(b.devidpPeers))
		for i, p := range b.devidpPeers {
			nets[i] = p.String()
		}
		b.log.Warn("DevIdPAllowCIDRs (DEVIDP_ALLOW_CIDRS) opens the development IdP to these networks: anyone connecting from them can sign in as any demo user without a password",
			"networks", strings.Join(nets, ","))
	}
	if cfg.Upstreams["demo"] == nil {
		cfg.Upstreams["demo"] = &url.URL{Scheme: cfg.URL.Scheme, Host: cfg.URL.Host, Path: devIdPPath + "/demo-api"}
	}
	b.log.Warn("development IdP - not for production: no identity provider is configured, so authbff serves its own Cognito-shaped IdP with demo users",
		"issuer", idp.Issuer(), "configure", "set COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET and COGNITO_DOMAIN (see README)")
	return nextauth.Provider{
		ID: "cognito", Name: "Cognito", Issuer: idp.Issuer(), ClientID: devClientID,
		ClientSecret: hex.EncodeToString(secret), Cognito: true,
		Scopes: []string{"openid", "profile", "email"}, AuthStyle: oidc.AuthStylePost,
	}, nil
}

// serveDevIdP serves the development IdP to loopback peers and the
// DEVIDP_ALLOW_CIDRS networks only. Anyone who reaches it signs in as any
// demo user, so it decides on the connection's peer address: the Host
// header and forwarding headers are the client's to choose, and never let
// a request in. authbff's own calls (discovery, token, JWKS, the demo API)
// come from loopback while NEXTAUTH_URL names this machine.
//
// A Host that is neither NEXTAUTH_URL's host nor a loopback name is
// refused too: a web page whose name an attacker re-points at 127.0.0.1
// (DNS rebinding) must not drive the IdP from the developer's browser.
func (b *BFF) serveDevIdP(w http.ResponseWriter, r *http.Request) {
	if !b.devIdPPeer(r.RemoteAddr) {
		b.log.Warn("development IdP: refused a request from a peer that is neither loopback nor in DEVIDP_ALLOW_CIDRS",
			"peer", r.RemoteAddr, "path", r.URL.Path)
		b.refuse(w, r, nextauth.CodeDevIdPLoopback, "")
		return
	}
	if !strings.EqualFold(r.Host, b.cfg.URL.Host) && !loopbackHost(r.Host) {
		b.refuse(w, r, nextauth.CodeDevIdPWrongHost, "")
		return
	}
	b.devidp.ServeHTTP(w, r)
}

// devIdPPeer reports whether remoteAddr (ip:port, as http.Request.RemoteAddr)
// may use the development IdP: loopback, or in DEVIDP_ALLOW_CIDRS.
func (b *BFF) devIdPPeer(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	if a.IsLoopback() {
		return true
	}
	for _, p := range b.devidpPeers {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// devSecret returns the development secret kept in dataDir, making it on
// first use, so sessions survive a restart without a secret; without
// dataDir, a random secret for this process only.
func devSecret(dataDir string) ([]byte, error) {
	if dataDir == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		return []byte(hex.EncodeToString(b)), nil
	}
	path := filepath.Join(dataDir, "dev-secret")
	if s, err := readDevSecret(dataDir); err == nil {
		return s, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("bff: dev secret: %w (set AUTHBFF_DATA_DIR to a writable directory)", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("bff: dev secret: %w", err)
	}
	return []byte(s), nil
}
