// Package session holds authbff's server-side sessions: the Record kept in a
// Store, the sealing of token material, and the Manager that creates, loads
// (with sliding expiry), updates and deletes sessions.
//
// The Store contract itself is public, in package
// github.com/authbff/authbff/bff/store; the names below are aliases of it,
// so the built-in backends and any store written outside this module are the
// same type to the Manager.
package session

import "github.com/authbff/authbff/bff/store"

// ErrNotFound is store.ErrNotFound: no live record for an id.
var ErrNotFound = store.ErrNotFound

// ErrConflict is store.ErrConflict: a Create of a taken id or an Update from
// a stale version; nothing was written.
var ErrConflict = store.ErrConflict

// ErrUnavailable is store.ErrUnavailable: a store fault, "unknown", never
// "signed out".
var ErrUnavailable = store.ErrUnavailable

// Record is store.Record: what a Store persists for one session.
type Record = store.Record

// Store is store.Store: the session store contract (see its doc comment).
type Store = store.Store

// Watcher is store.Watcher: a shared store's change feed.
type Watcher = store.Watcher

// LeasedWatcher is store.LeasedWatcher: a change feed that proves itself up
// to date.
type LeasedWatcher = store.LeasedWatcher

// WatchWaiter is store.WatchWaiter: waiting for a watch to stop.
type WatchWaiter = store.WatchWaiter

// Locker is store.Locker: a lock shared by every process (the refresh lock).
type Locker = store.Locker

// Purger is store.Purger: a store that removes expired data in sweeps.
type Purger = store.Purger

// SIDKey is store.SIDKey: the key of one IdP session, provider and sid.
func SIDKey(provider, sid string) string { return store.SIDKey(provider, sid) }
