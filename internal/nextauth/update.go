package nextauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/authbff/authbff/internal/session"
)

// UpdateData is the data of update() (POST /session with csrfToken and
// data; the caller checked the CSRF token): the keys of
// Settings.SessionUpdatable are stored in the session record, each a JSON
// value (null removes the key), through the Manager's compare-and-swap
// (another tab's or instance's write in between is re-read, so the last
// write wins per key and an ended session stays ended). Other keys are
// ignored (logged at debug); identity fields are never written this way.
// Data whose stored keys would pass MaxUpdateData is refused whole and
// logged: the session stays as it was. Without a session, or with nothing
// updatable, it does nothing; only a store fault is an error.
func (c *Core) UpdateData(ctx context.Context, r *Request, raw string) error {
	if len(c.cfg.SessionUpdatable) == 0 || raw == "" {
		return nil
	}
	log := c.logger(r)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		log.Debug("update(): data is not a JSON object; ignored")
		return nil
	}
	set := map[string]string{}
	var ignored []string
	size := 0
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(c.cfg.SessionUpdatable, k) {
			ignored = append(ignored, k)
			continue
		}
		var buf bytes.Buffer
		if json.Compact(&buf, obj[k]) != nil {
			continue
		}
		set[k] = buf.String()
		size += len(k) + buf.Len()
	}
	if len(ignored) > 0 {
		log.Debug("update(): keys not in AUTH_SESSION_UPDATABLE ignored", "keys", ignored)
	}
	if len(set) == 0 {
		return nil
	}
	if size > MaxUpdateData {
		log.Info("update(): data refused: over the bound of stored keys", "bytes", size, "max", MaxUpdateData)
		return nil
	}
	token, _ := c.sessionToken(r)
	if token == "" {
		return nil
	}
	_, err := c.sessions.Update(ctx, token, func(d *session.Data) bool {
		next := maps.Clone(d.Extra)
		if next == nil {
			next = map[string]string{}
		}
		for k, v := range set {
			if v == "null" {
				delete(next, k)
			} else {
				next[k] = v
			}
		}
		if maps.Equal(next, d.Extra) || len(next) == 0 && len(d.Extra) == 0 {
			return false
		}
		total := 0
		for k, v := range next {
			total += len(k) + len(v)
		}
		if total > MaxUpdateData {
			log.Info("update(): data refused: the stored keys would pass their bound", "bytes", total, "max", MaxUpdateData)
			return false
		}
		if len(next) == 0 {
			next = nil
		}
		d.Extra = next
		return true
	})
	if errors.Is(err, session.ErrNotFound) {
		return nil // no session (any more): the session read answers so
	}
	if err != nil {
		return storeErr(err)
	}
	return nil
}
