package devidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// persisted is what Options.StateFile keeps across restarts: the signing
// keys (so tokens minted before a restart still verify) and the live refresh
// tokens and revoked chains (so a session's refresh still works). Hosted-UI
// sessions and codes are not kept: after a restart the login page shows again.
type persisted struct {
	IDKey     json.RawMessage           `json:"id_key"`
	AccessKey json.RawMessage           `json:"access_key"`
	Refresh   map[string]persistedGrant `json:"refresh"`
	Revoked   []string                  `json:"revoked"`
}

type persistedGrant struct {
	ClientID  string    `json:"client_id"`
	Username  string    `json:"username"`
	Scope     string    `json:"scope"`
	OriginJTI string    `json:"origin_jti"`
	AuthTime  time.Time `json:"auth_time"`
	Expires   time.Time `json:"expires"`
}

// loadState reads StateFile into p; a missing file is not an error (found
// is false).
func (p *IdP) loadState(path string) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read state: %w", err)
	}
	var st persisted
	if err := json.Unmarshal(b, &st); err != nil {
		return false, fmt.Errorf("parse state %s: %w (delete the file to start afresh)", path, err)
	}
	idKey, err := jwk.ParseKey(st.IDKey)
	if err != nil {
		return false, fmt.Errorf("parse state %s: id key: %w", path, err)
	}
	accessKey, err := jwk.ParseKey(st.AccessKey)
	if err != nil {
		return false, fmt.Errorf("parse state %s: access key: %w", path, err)
	}
	if p.keys, err = keyPairFrom(idKey, accessKey); err != nil {
		return false, fmt.Errorf("parse state %s: %w", path, err)
	}
	now := p.now()
	for tok, g := range st.Refresh {
		if g.Expires.After(now) {
			p.refresh[tok] = &refreshGrant{clientID: g.ClientID, username: g.Username, scope: g.Scope,
				originJTI: g.OriginJTI, authTime: g.AuthTime, expires: g.Expires}
		}
	}
	for _, o := range st.Revoked {
		p.revoked[o] = true
	}
	return true, nil
}

// saveLocked writes the state file (p.mu held). Failures are logged: the
// IdP keeps working, it only forgets across a restart. After Close it
// writes nothing.
func (p *IdP) saveLocked() {
	path := p.opts.StateFile
	if path == "" || p.closed {
		return
	}
	if err := p.writeState(path); err != nil {
		p.log.Warn("devidp: cannot save its state; refresh tokens will not survive a restart", "file", path, "error", err)
	}
}

func (p *IdP) writeState(path string) error {
	idKey, err := json.Marshal(p.keys.id)
	if err != nil {
		return err
	}
	accessKey, err := json.Marshal(p.keys.access)
	if err != nil {
		return err
	}
	st := persisted{IDKey: idKey, AccessKey: accessKey, Refresh: make(map[string]persistedGrant, len(p.refresh))}
	now := p.now()
	for tok, g := range p.refresh {
		if g.expires.After(now) {
			st.Refresh[tok] = persistedGrant{ClientID: g.clientID, Username: g.username, Scope: g.scope,
				OriginJTI: g.originJTI, AuthTime: g.authTime, Expires: g.expires}
		}
	}
	for o := range p.revoked {
		st.Revoked = append(st.Revoked, o)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Close stops the IdP's writes to its state file: a request still being
// answered when its owner shuts down (a refresh, a revocation) changes its
// memory only, so the owner may remove the file's directory once Close
// returns. The IdP keeps answering.
func (p *IdP) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}
