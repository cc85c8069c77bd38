package bff

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// MaxPreviousSecrets bounds the secrets RotateSecrets keeps on its own as
// previous ones: each rotation moves the secret that was current to the
// front of that list and drops the oldest beyond this many. A session a
// previous secret opens is sealed again with the current one when its
// expiry slides (at most every Options.SessionUpdateAge), so active
// sessions move on; a session idle through that many rotations, and flow
// cookies and CSRF tokens sealed with a dropped secret, stop opening
// (their users sign in again). Rotate less often than
// Options.SessionMaxAge divided by it to spare idle sessions, or list the
// older secrets in Secrets.Secrets yourself (listed secrets are never
// dropped).
const MaxPreviousSecrets = 3

// Secrets are the secrets RotateSecrets replaces on a running BFF. A zero
// field keeps what runs.
type Secrets struct {
	// Secrets are Options.Secrets' new value: the new current secret
	// first, then previous ones to accept (each at least 32 bytes). The
	// secret current until now is kept as a previous one automatically
	// (see MaxPreviousSecrets). Empty keeps the running secrets.
	Secrets []string
	// Providers are new client credentials, by provider ID (as in
	// /api/auth/providers); a provider not listed keeps its own.
	Providers map[string]ProviderSecrets
}

// ProviderSecrets are one provider's client credentials: the Provider
// fields of the same names, checked the same way. They must suit the
// provider's AuthStyle, which a rotation cannot change (a client secret
// for client_secret_post, _basic and _jwt; a ClientKey for
// private_key_jwt). Sign in with Apple's key is not rotated at run time.
type ProviderSecrets struct {
	// ClientSecret is the new client secret.
	ClientSecret string
	// ClientKey is the new private_key_jwt key (PEM; more blocks are
	// previous keys, published only), ClientKeyID its kid ("" the RFC 7638
	// thumbprint). The key that signed until now stays published at
	// <base>/jwks until the next rotation, for providers that cache the
	// client's keys.
	ClientKey, ClientKeyID string
}

// keyring is what the secrets give a running BFF: RotateSecrets swaps it
// whole.
type keyring struct {
	secrets [][]byte // current first
	listed  int      // secrets[:listed] were given; the rest were carried over by rotations
	admin   [][]byte // the admin credentials (admin.go), current first
}

func newKeyring(secrets [][]byte, listed int) *keyring {
	return &keyring{secrets: secrets, listed: listed, admin: adminKeys(secrets)}
}

// RotateSecrets replaces secrets of the running BFF without a restart (for
// a secret rotated in a file, a Kubernetes secret update): the session
// secret (s.Secrets) and providers' client credentials (s.Providers). They
// are checked as New checks Options (the error names the Options field,
// Providers[i] by its index in Options.Providers); on an error nothing
// changes. Otherwise every sealing from then on (session records, flow
// and CSRF cookies) uses the new current secret, every opening tries the
// new secrets then the previous ones, the admin credential of the new
// current secret is accepted (those of the previous ones still are), and
// the next call to a provider's token endpoint sends its new credentials.
// Requests under way finish with what they read. A session loaded before
// a secret was dropped may still be served from the in-process cache for
// Options.SessionCacheTTL. The session store (Options.Store, StoreSpec) is
// not rotated: changing it needs a restart. Safe for concurrent use with
// everything else.
func (b *BFF) RotateSecrets(s Secrets) error {
	b.rotMu.Lock()
	defer b.rotMu.Unlock()
	o := b.opts
	o.Providers = slices.Clone(o.Providers)
	if len(s.Secrets) > 0 {
		o.Secrets = s.Secrets
	}
	var p problems
	ids := make([]string, 0, len(s.Providers))
	for id := range s.Providers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	index := map[string]int{}
	for i, np := range b.cfg.Providers {
		index[np.ID] = i
	}
	for _, id := range ids {
		i, ok := index[id]
		switch {
		case !ok:
			p.add(fmt.Sprintf("Providers[%q]", id), ": no such provider (the development IdP's credentials are its own)")
			continue
		case o.Providers[i].Apple:
			p.add(fmt.Sprintf("Providers[%d]", i), " (%s) is Sign in with Apple: its key is not rotated at run time; restart to change it", id)
			continue
		}
		ps := s.Providers[id]
		o.Providers[i].ClientSecret, o.Providers[i].ClientKey, o.Providers[i].ClientKeyID = ps.ClientSecret, ps.ClientKey, ps.ClientKeyID
	}
	if len(p) > 0 {
		return fmt.Errorf("bff: rotate secrets: nothing changed: %w", errors.Join(p...))
	}
	cfg, err := o.resolve()
	if err != nil {
		return fmt.Errorf("bff: rotate secrets: nothing changed: %w", err)
	}
	for _, id := range ids {
		i := index[id]
		np, was := cfg.Providers[i], b.cfg.Providers[i]
		if np.AuthStyle != was.AuthStyle {
			p.add(fmt.Sprintf("Providers[%d]", i), " (%s): the new credentials change the client authentication from %s to %s: restart to change it", id, was.AuthStyle, np.AuthStyle)
			continue
		}
		if err := b.core.CheckClientCredentials(id, np.ClientSecret, np.ClientKeys); err != nil {
			p.add(fmt.Sprintf("Providers[%d]", i), " (%s): %v", id, err)
		}
	}
	if len(p) > 0 {
		return fmt.Errorf("bff: rotate secrets: nothing changed: %w", errors.Join(p...))
	}
	old := b.keys.Load()
	next := old
	if len(s.Secrets) > 0 {
		next = rotated(old, cfg.Secrets)
		if err := b.core.SetSecrets(next.secrets); err != nil {
			return fmt.Errorf("bff: rotate secrets: nothing changed: %w", err)
		}
	}
	for _, id := range ids {
		np := cfg.Providers[index[id]]
		if err := b.core.SetClientCredentials(id, np.ClientSecret, np.ClientKeys); err != nil {
			// CheckClientCredentials accepted them: not reached.
			return fmt.Errorf("bff: rotate secrets: %w", err)
		}
	}
	b.keys.Store(next)
	b.log.Info("secrets rotated", "session_secrets", len(s.Secrets) > 0, "previous_secrets", len(next.secrets)-1,
		"providers", ids)
	return nil
}

// rotated is old with listed as its given secrets: the secret current in
// old and the ones old had carried follow, unless listed, at most
// MaxPreviousSecrets of them.
func rotated(old *keyring, listed [][]byte) *keyring {
	secrets := slices.Clone(listed)
	carry := append([][]byte{old.secrets[0]}, old.secrets[old.listed:]...)
	n := 0
	for _, c := range carry {
		if n == MaxPreviousSecrets {
			break
		}
		if slices.ContainsFunc(secrets, func(s []byte) bool { return bytes.Equal(s, c) }) {
			continue
		}
		secrets = append(secrets, c)
		n++
	}
	return newKeyring(secrets, len(listed))
}
