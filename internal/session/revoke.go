package session

import (
	"context"
	"fmt"
	"strings"
)

// revokeKeyName stands in for the cookie token in the key derivation of
// Record.Revoke: the key then depends on the server secret alone. It cannot
// be a cookie token (validToken refuses it), so it never names a session's
// own key.
const revokeKeyName = "!revoke/v1"

// maxRevoking bounds the ManagerOptions.Revoke calls under way at once;
// further ends wait for a place in their own goroutines.
const maxRevoking = 16

// sealRevoke seals provider and refreshToken for Record.Revoke, bound to
// the record id; nil when there is no refresh token.
func (m *Manager) sealRevoke(id, provider, refreshToken string) ([]byte, error) {
	if refreshToken == "" {
		return nil, nil
	}
	pt := make([]byte, 0, len(provider)+1+len(refreshToken))
	pt = append(append(append(pt, provider...), 0), refreshToken...)
	b, err := (*m.sealers.Load())[0].seal(revokeKeyName, []byte(id), pt)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("seal revocation: %w", err)
	}
	return b, nil
}

// openRevoke opens rec.Revoke with every secret in turn.
func (m *Manager) openRevoke(rec *Record) (provider, refreshToken string, ok bool) {
	if len(rec.Revoke) == 0 {
		return "", "", false
	}
	for _, sl := range *m.sealers.Load() {
		pt, err := sl.open(nil, revokeKeyName, []byte(rec.ID), rec.Revoke)
		if err != nil {
			continue
		}
		provider, refreshToken, ok = strings.Cut(string(pt), "\x00")
		clear(pt)
		return provider, refreshToken, ok && refreshToken != ""
	}
	return "", "", false
}

// revokeEnded hands the refresh token of an ended record to
// ManagerOptions.Revoke in the background.
func (m *Manager) revokeEnded(ctx context.Context, rec *Record) {
	if m.revoke == nil {
		return
	}
	provider, rt, ok := m.openRevoke(rec)
	if !ok {
		if len(rec.Revoke) > 0 {
			m.log.WarnContext(ctx, "session: the ended session's refresh token does not open (secret rotated away?); not revoked", "id_prefix", rec.ID[:min(8, len(rec.ID))])
		}
		return
	}
	m.RevokeToken(ctx, provider, rt)
}

// RevokeToken hands a refresh token that belongs to no live session (e.g.
// one a refresh obtained after its session had ended) to
// ManagerOptions.Revoke, in the background; Close waits for it. Without a
// Revoke option it does nothing.
func (m *Manager) RevokeToken(ctx context.Context, provider, refreshToken string) {
	if m.revoke == nil || refreshToken == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	m.revoking.Add(1)
	go func() {
		defer m.revoking.Done()
		m.revokeSem <- struct{}{}
		defer func() { <-m.revokeSem }()
		m.revoke(ctx, provider, refreshToken)
	}()
}
