package bff

import (
	"encoding/json"
	"net/http"

	"github.com/authbff/authbff/internal/nextauth"
)

// serveJWKS answers GET <base>/jwks: the public halves of the providers'
// private_key_jwt keys (register it as the client's jwks_uri); 404
// not_found when no provider has a key.
func (b *BFF) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set, ok := b.core.JWKS()
	if !ok {
		b.refuse(w, r, nextauth.CodeNotFound, "no provider authenticates with private_key_jwt: there are no client keys to publish")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	writeJSON(w, http.StatusOK, json.RawMessage(set), false)
}
