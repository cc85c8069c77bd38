package store

import (
	"context"
	"time"
)

// Purger is implemented by stores that remove expired data in sweeps rather
// than having it vanish by itself (as Redis keys do). DeleteExpired removes
// every record and marker whose expiry is not after now and every tombstone
// whose end is not after now, and returns how many records it removed;
// nothing expiring after now is touched. A fault wraps ErrUnavailable.
//
// authbff does not call it: a store runs its own sweep (memstore and
// boltstore each run one in the background until Close) or leaves it to the
// host's schedule (a cron job against a database). The storetest suite
// checks it on every store that implements it.
type Purger interface {
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

// Watcher is implemented by stores that several processes share (Redis).
// Watch reports, in the background until ctx ends, every record any of them
// saves or deletes (changed), and whether that report is live (healthy):
// healthy(false) when the connection is lost, healthy(true) once it is back.
// A Manager with a cache drops changed entries at once and serves nothing
// from its cache while the report is not live. Watch returns at once; once
// ctx has ended (or the store is closed) the watch stops promptly and calls
// changed and healthy no more. A store whose watch runs goroutines should
// also implement WatchWaiter, so that the Manager's Close can wait for them.
//
// A store several authbff processes share must implement Watcher (better,
// LeasedWatcher) or the hosts must turn the session cache off: without it an
// instance can serve a session another instance ended until its cache entry
// expires. The storetest suite checks the feed on every store that
// implements it.
type Watcher interface {
	Watch(ctx context.Context, changed func(id string), healthy func(ok bool))
}

// LeasedWatcher is a Watcher whose change feed also proves itself up to date.
// WatchLeased is Watch that returns current: while current() is true, every
// session whose Store.Delete has returned, in any process, has already been
// passed to changed. A Manager's cache serves nothing while it is false.
//
// A store implementing it makes Delete wait until no watching process can
// still serve the id: each has confirmed dropping it, or can prove nothing
// (its current turned false).
type LeasedWatcher interface {
	Watcher
	WatchLeased(ctx context.Context, changed func(id string), healthy func(ok bool)) (current func() bool)
}

// WatchWaiter is implemented by a Watcher whose watch runs goroutines of its
// own (the built-in Redis store). WaitWatch returns once the watch started
// with ctx (by Watch or WatchLeased, given this very ctx value; all of them
// if several were) has stopped: it calls changed and healthy no more and
// every goroutine it started has ended. It returns at once when there is no
// such watch, and waits for ctx to end otherwise. A Manager cancels its
// watch's ctx on Close and then calls WaitWatch, so that nothing it started
// outlives its Close, also when the host keeps the store open. The
// storetest suite checks it on every store that implements it.
type WatchWaiter interface {
	WaitWatch(ctx context.Context)
}

// Locker is implemented by stores that several processes share: a lock
// every process sees, which authbff takes around a token refresh so that
// one instance at a time spends a session's refresh token (an IdP that
// rotates refresh tokens would otherwise see the same one twice). Without
// it, refreshes are serialised within each process only.
//
// Lock tries once to take the lock name for ttl. ok reports whether it was
// taken; when it is held (by any process, this one included), ok is false
// and err nil. An err means the store could not be asked and wraps
// ErrUnavailable; an empty name or a ttl under a millisecond is an error
// too. unlock is never nil and may be called any number of times; it
// releases the lock only while this holder still owns it (its ttl has not
// run out and nobody took it since). The lock is advisory and ends after
// ttl whatever the holder does.
//
// WaitUnlocked polls every poll (a store default when poll <= 0) until the
// lock name is free, then returns nil, without taking it. When ctx ends
// first it returns ctx's error (wrapped); a store fault wraps
// ErrUnavailable.
type Locker interface {
	Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
	WaitUnlocked(ctx context.Context, name string, poll time.Duration) error
}
