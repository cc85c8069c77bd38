package session

import (
	"errors"
	"fmt"
)

// SetSecrets replaces the server secrets (current first, each at least
// MinSecretLen bytes), as ManagerOptions.Secrets: from the next seal or
// open on, concurrent calls included. A record a previous secret opens is
// sealed again with the current one when a Load slides its expiry;
// records sealed with a secret no longer listed do not open any more
// (their sessions are not found). On an error nothing changes.
func (m *Manager) SetSecrets(secrets [][]byte) error {
	if len(secrets) == 0 {
		return errors.New("at least one secret is required (set NEXTAUTH_SECRET)")
	}
	sealers := make([]*sealer, 0, len(secrets))
	for i, sec := range secrets {
		if len(sec) < MinSecretLen {
			return fmt.Errorf("secret %d is %d bytes, need at least %d (generate one with `openssl rand -base64 32`)", i, len(sec), MinSecretLen)
		}
		s, err := newSealer(sec)
		if err != nil {
			return err
		}
		sealers = append(sealers, s)
	}
	m.sealers.Store(&sealers)
	return nil
}

// open decrypts sealed with every secret in turn and decodes it into d;
// stale reports that a previous secret opened it. The plaintext scratch
// buffer is pooled and wiped after use.
func (m *Manager) open(d *Data, token string, id, sealed []byte) (stale bool, err error) {
	bp := m.bufs.Get().(*[]byte)
	defer func() {
		clear((*bp)[:cap(*bp)])
		*bp = (*bp)[:0]
		m.bufs.Put(bp)
	}()
	var pt []byte
	err = errOpen
	for i, sl := range *m.sealers.Load() {
		pt, err = sl.open((*bp)[:0], token, id, sealed)
		if err == nil {
			stale = i > 0
			break
		}
	}
	if err != nil {
		return false, err
	}
	if cap(pt) > cap(*bp) {
		*bp = pt[:0]
	}
	return stale, decodeData(pt, d)
}
