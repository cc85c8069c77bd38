// Package store is the contract between authbff and the place its sessions
// live: the Store interface, the Record it keeps, the sentinel errors, and
// the optional interfaces a store may also implement (Purger; and, for a
// store several processes share, Watcher or LeasedWatcher, WatchWaiter and
// Locker). Implement Store to keep sessions in a database of
// your own (DynamoDB, MySQL, ...), check it with package
// [github.com/authbff/authbff/bff/store/storetest], and hand it to
// bff.Options.Store.
//
// The built-in stores (memory, bolt, Redis, PostgreSQL) implement this same interface;
// bff.OpenStore opens them.
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrNotFound is returned by Store.Get when no live record exists for an id.
// A missing or expired record is NOT a system fault.
var ErrNotFound = errors.New("session: not found")

// ErrConflict is returned by Store.Create for an id already taken (by a live
// record or a tombstone) and by Store.Update when the record is no longer at
// the version the update was based on. Nothing was written.
var ErrConflict = errors.New("session: conflicting write")

// ErrUnavailable wraps store failures (network, disk, closed store). Callers
// must treat it as "unknown", never as "signed out".
var ErrUnavailable = errors.New("session: store unavailable")

// Record is what a Store persists for one session. Everything secret (the
// user's profile and the OAuth tokens) is inside Sealed, encrypted under a key
// derived from the cookie token the store never sees; the other fields are the
// metadata needed to list, expire and end sessions without that token.
//
// A store keeps every field as it was given (times to at least the
// millisecond) and need not understand any of them beyond ID, UserKey,
// SIDKey(), Expires and Version.
type Record struct {
	// ID is hex(SHA-256(cookie token)): the store key. Never the token itself.
	ID string `json:"id"`
	// UserKey identifies the user across sessions: "<provider>|<sub>".
	UserKey string `json:"uk"`
	// SID is the IdP's session id (OIDC "sid" claim) when it sent one.
	SID string `json:"sid,omitempty"`
	// Created is when the session was made.
	Created time.Time `json:"c"`
	// LastSeen is when the session's expiry was last extended.
	LastSeen time.Time `json:"ls"`
	// Expires is when the record stops existing; stores must not return it after.
	Expires time.Time `json:"e"`
	// UserAgent is the browser's User-Agent at sign-in (truncated).
	UserAgent string `json:"ua,omitempty"`
	// Version increases by one on every write of the session: Store.Update
	// takes the version it read and fails if another write came first.
	Version int64 `json:"v"`
	// Sealed is the AES-256-GCM sealed session data: a 12-byte nonce then the
	// ciphertext and tag, under HKDF-SHA256(secret, info
	// "authbff/session/v1|"+token) with ID as additional data. Opaque to a
	// store.
	Sealed []byte `json:"s"`
	// Revoke is the refresh token and its provider id sealed a second time,
	// under a key derived from the server secret alone (not from the cookie),
	// with ID as additional data: every server-side end of the session (an
	// administrator, the per-user cap, another session's "End", back-channel
	// logout) can then revoke the token at the IdP. Empty without a refresh
	// token. Opaque to a store.
	Revoke []byte `json:"r,omitempty"`
}

// SIDKey identifies one IdP session across the sessions it made: the
// provider id and the IdP's session id (the OIDC "sid" claim). A provider
// has one issuer and a sid is unique per issuer, so the pair names exactly
// one IdP session. It is the key of Store.ListBySID.
func SIDKey(provider, sid string) string { return provider + "|" + sid }

// SIDKey returns SIDKey(provider, r.SID), the provider being r.UserKey up to
// its first "|" (provider ids never contain one), or "" when r has no SID.
// Stores index records by it.
func (r *Record) SIDKey() string {
	if r.SID == "" {
		return ""
	}
	provider, _, _ := strings.Cut(r.UserKey, "|")
	return SIDKey(provider, r.SID)
}

// Store persists Records. Implementations must be safe for concurrent use.
//
// Ending a session is final: every write of an existing record is a
// compare-and-swap on its Version, and Delete leaves a tombstone that no later
// write can pass, so a write that raced an end (a token refresh finishing
// after a sign-out) can never bring the session back.
//
// Contract (checked by package storetest):
//   - Get returns ErrNotFound (possibly wrapped) for a missing, expired or
//     ended id, with no other error; any other error is a system fault and
//     should wrap ErrUnavailable.
//   - Create stores a new record, which expires at rec.Expires. An id that
//     holds a live record or a tombstone is ErrConflict and nothing is
//     written. A record whose Expires is not after now is not stored (nil).
//   - Update replaces the live record rec.ID only while it is at Version
//     version (rec.Version is normally version+1); the check and the write
//     are one atomic step for every process sharing the store. A record
//     that is gone (never created, expired, ended) is ErrNotFound, one at
//     another version ErrConflict; nothing is written in either case, nor
//     when rec.Expires is not after now (ErrNotFound). Indexes follow the
//     new UserKey and SID.
//   - Delete ends the record id and returns it as it was when it ended (so
//     that its tokens can be revoked), or nil, nil when there was no live
//     record (nothing is written then). An ended id is seen by no Get, list
//     or Update, and its tombstone refuses every Create and Update of id
//     until `until` or the record's Expires, whichever is later.
//   - ListByUser returns the live records with that UserKey (any order).
//   - ListBySID returns the live records whose SIDKey() equals sidKey (any
//     order); records without a SID are in no such list.
//   - Records returned are copies: mutating them does not change the store,
//     nor does mutating a record after passing it to Create.
//   - Markers (MarkUsed) live in their own key space: they are never
//     records, never returned by Get, ListByUser or ListBySID, and a record
//     id never collides with a marker key. Expired markers are purged like
//     expired records, tombstones likewise once past their end.
type Store interface {
	Get(ctx context.Context, id string) (*Record, error)
	Create(ctx context.Context, rec *Record) error
	Update(ctx context.Context, rec *Record, version int64) error
	Delete(ctx context.Context, id string, until time.Time) (*Record, error)
	ListByUser(ctx context.Context, userKey string) ([]*Record, error)
	ListBySID(ctx context.Context, sidKey string) ([]*Record, error)
	// MarkUsed records the one-time value key until expires and reports
	// whether a live marker for key already existed (seen), in which case it
	// changes nothing. The check and the write are one atomic step: of
	// concurrent first uses, in any process sharing the store, exactly one
	// sees false. An expires not after now records nothing and only reports
	// seen. key must not be empty (an error that is not ErrUnavailable). On
	// a fault, seen is false and err wraps ErrUnavailable.
	MarkUsed(ctx context.Context, key string, expires time.Time) (seen bool, err error)
	// UnmarkUsed removes the marker key (e.g. to let a retry through after
	// the guarded action failed); a missing marker is not an error.
	UnmarkUsed(ctx context.Context, key string) error
	// Ping reports whether the store is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases resources and stops background work (cleanup sweeps,
	// watches), and should return only once every goroutine the store
	// started has ended.
	Close() error
}
