package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
)

// maxUpdateTries bounds Update's compare-and-swap retries.
const maxUpdateTries = 8

// Update changes a session's Data through change, a compare-and-swap on
// the stored record: it reads the session from the store (never the
// cache), calls change on a copy whose maps (Claims, Extra) change may
// modify, and saves it conditioned on the version read. When another write
// came in between (another tab, another instance, a refresh), it reads
// again and calls change again, so each writer's keys land on the latest
// record (last write wins per key) and nothing another writer set is lost.
// change returns false to write nothing. A session ended meanwhile is
// ErrNotFound: Update never brings it back. The returned session is the
// one stored (or read, when nothing was written). Every instance's cache
// drops the old version as for Save.
func (m *Manager) Update(ctx context.Context, token string, change func(d *Data) bool) (*Session, error) {
	for range maxUpdateTries {
		s, err := m.LoadFresh(ctx, token)
		if err != nil {
			return nil, err
		}
		cp := *s
		cp.Extended = false
		cp.Data.Claims = maps.Clone(s.Data.Claims)
		cp.Data.Extra = maps.Clone(s.Data.Extra)
		if !change(&cp.Data) {
			return s, nil
		}
		err = m.Save(ctx, token, &cp)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &cp, nil
	}
	return nil, fmt.Errorf("session update: %d conflicting writes in a row: %w", maxUpdateTries, ErrUnavailable)
}
