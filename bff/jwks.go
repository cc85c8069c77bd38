package bff

import (
	"encoding/json"
	"net/http"
)

// serveJWKS answers GET <base>/jwks: the public halves of the providers'
// private_key_jwt keys (register it as the client's jwks_uri). Without a
// key it is no route.
func (b *BFF) serveJWKS(w http.ResponseWriter) bool {
	set, ok := b.core.JWKS()
	if !ok {
		return false
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	writeJSON(w, http.StatusOK, json.RawMessage(set), false)
	return true
}
