package bff

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
)

// DevIdPPath is where the embedded development IdP is mounted.
const DevIdPPath = "/_devidp"

// DevClientID is the development IdP's app client id.
const DevClientID = "authbff-dev"

// startDevIdP makes the embedded development IdP and the Cognito provider
// pointing at it; it also adds the "demo" upstream (the IdP's demo API) so
// /api/proxy/demo/me works out of the box.
func (b *BFF) startDevIdP() (config.Provider, error) {
	cfg := b.cfg
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return config.Provider{}, err
	}
	origin := cfg.Origin()
	idp, err := devidp.New(devidp.Options{
		BaseURL: origin + DevIdPPath,
		Clients: []devidp.Client{{
			ID:           DevClientID,
			Secret:       hex.EncodeToString(secret),
			RedirectURIs: []string{cfg.CallbackURL("cognito")},
			LogoutURLs:   []string{origin, origin + "/"},
		}},
		// Keys and refresh tokens survive a restart, like the sessions.
		StateFile: filepath.Join(cfg.DataDir, "devidp-state.json"),
		Logger:    b.log.With("component", "devidp"),
	})
	if err != nil {
		return config.Provider{}, fmt.Errorf("bff: development IdP: %w", err)
	}
	b.devidp = idp
	if cfg.Upstreams["demo"] == nil {
		cfg.Upstreams["demo"] = &url.URL{Scheme: cfg.URL.Scheme, Host: cfg.URL.Host, Path: DevIdPPath + "/demo-api"}
	}
	b.log.Warn("development IdP - not for production: no identity provider is configured, so authbff serves its own Cognito-shaped IdP with demo users",
		"issuer", idp.Issuer(), "configure", "set COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET and COGNITO_ISSUER (see README)")
	return config.Provider{
		ID: "cognito", Name: "Cognito", Issuer: idp.Issuer(), ClientID: DevClientID,
		ClientSecret: hex.EncodeToString(secret), Cognito: true,
		Scopes: []string{"openid", "profile", "email"}, AuthStyle: config.AuthStylePost,
	}, nil
}

// devSecret returns the development secret kept in dataDir, making it on
// first use, so sessions survive a restart without NEXTAUTH_SECRET.
func devSecret(dataDir string) ([]byte, error) {
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
