package pgstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The ended-session feed: how a Delete makes sure no other instance's
// session cache serves the session once Delete has returned. It is the
// Redis store's design (see redisstore/feed.go) on LISTEN/NOTIFY:
//
//   - Every watching Store (a Manager with a cache) LISTENs on its own
//     connection to <ch>_ends, <ch>_changes and its probe channel, and keeps
//     a row in <prefix>presence whose expires (the database's clock) it
//     renews every FeedLease/3, notifying a probe on its probe channel in
//     the same transaction. When the probe comes back through its LISTEN
//     connection it may serve from its cache until the renewal's start +
//     FeedLease: PostgreSQL delivers notifications in commit order, so the
//     probe's arrival proves every end committed before the renewal has
//     been delivered.
//   - Delete turns the record into its tombstone, notifies
//     "<origin> <seq> <id>" on <ch>_ends and reads the present members with
//     the time their lease still runs, all in one statement (so the
//     notification exists exactly when the tombstone does). Each watcher
//     drops the id and notifies "<seq> <member>" on <ch>_ack_<origin>,
//     which the deleting Store LISTENs to; Delete returns when every present
//     member has answered or its lease has run out (at most FeedLease).
//   - A renewal and a Delete are ordered by an advisory lock (exclusive for
//     the renewal, shared for Deletes) taken in the same transaction before
//     the statement's snapshot: a Delete either sees the renewed lease and
//     waits for it, or committed first, and then its end is delivered
//     before the renewal's probe.
//
// Why LISTEN/NOTIFY rather than polling a change table or logical
// replication: it needs no extra privilege (logical replication needs
// REPLICATION and a slot to manage), delivers in commit order within
// milliseconds, and its one weakness, delivery to a connection that is
// silently gone, is what the presence lease covers.

// DefaultFeedLease is Options.FeedLease when it is 0.
const DefaultFeedLease = 500 * time.Millisecond

// listenQuiet is how long a LISTEN connection waits for a notification
// before checking its link with a ping.
const listenQuiet = time.Second

// listenRetry is how long a lost LISTEN connection waits to reconnect.
const listenRetry = 100 * time.Millisecond

// acks collects the acknowledgements of this Store's announced ends.
type acks struct {
	once sync.Once
	mu   sync.Mutex
	seq  uint64
	wait map[uint64]*ackWait
	live chan struct{} // closed while the ack LISTEN is up
}

// ackWait is one announced end waiting for its acknowledgements.
type ackWait struct {
	seq     uint64
	need    map[string]time.Time // present members yet to answer -> when their lease ends
	early   []string             // members that answered before need was known
	changed chan struct{}
}

// startAcks LISTENs to this Store's ack channel, once, until Close.
func (s *Store) startAcks() {
	s.acks.once.Do(func() {
		s.acks.mu.Lock()
		s.acks.wait = make(map[uint64]*ackWait)
		s.acks.live = make(chan struct{})
		s.acks.mu.Unlock()
		l := &listener{s: s, channels: []string{s.ch.ack(s.origin)},
			onNote: func(n *pgconn.Notification) {
				seq, member, _ := strings.Cut(n.Payload, " ")
				if v, err := strconv.ParseUint(seq, 10, 64); err == nil {
					s.acked(v, member)
				}
			},
			onUp: func(up bool) {
				s.acks.mu.Lock()
				defer s.acks.mu.Unlock()
				select {
				case <-s.acks.live:
					if !up {
						s.acks.live = make(chan struct{})
					}
				default:
					if up {
						close(s.acks.live)
					}
				}
			},
		}
		s.goBg(func() { l.run(s.bg) })
	})
}

func (s *Store) acked(seq uint64, member string) {
	s.acks.mu.Lock()
	defer s.acks.mu.Unlock()
	w := s.acks.wait[seq]
	if w == nil {
		return
	}
	if w.need != nil {
		delete(w.need, member)
	} else {
		w.early = append(w.early, member)
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// startAnnounce registers an end about to be announced, once the ack
// LISTEN is up (or FeedLease has passed: the leases bound the wait then).
func (s *Store) startAnnounce(ctx context.Context) (*ackWait, error) {
	s.startAcks()
	s.acks.mu.Lock()
	live := s.acks.live
	s.acks.mu.Unlock()
	t := time.NewTimer(s.feedLease)
	defer t.Stop()
	select {
	case <-live:
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.acks.mu.Lock()
	defer s.acks.mu.Unlock()
	s.acks.seq++
	w := &ackWait{seq: s.acks.seq, changed: make(chan struct{}, 1)}
	s.acks.wait[w.seq] = w
	return w, nil
}

func (s *Store) endAnnounce(w *ackWait) {
	s.acks.mu.Lock()
	delete(s.acks.wait, w.seq)
	s.acks.mu.Unlock()
}

func (s *Store) endMessage(w *ackWait, id string) string {
	return s.origin + " " + strconv.FormatUint(w.seq, 10) + " " + id
}

// awaitAcks waits until every member in need (with how long its lease
// still ran when the Delete committed, measured from published) has
// acknowledged w or its lease has ended, or ctx ends (an error).
func (s *Store) awaitAcks(ctx context.Context, w *ackWait, need map[string]time.Duration, published time.Time) error {
	s.acks.mu.Lock()
	w.need = make(map[string]time.Time, len(need))
	for m, left := range need {
		w.need[m] = published.Add(left)
	}
	for _, m := range w.early {
		delete(w.need, m)
	}
	s.acks.mu.Unlock()
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for {
		s.acks.mu.Lock()
		var until time.Time
		for m, end := range w.need {
			if !end.After(time.Now()) {
				delete(w.need, m) // its lease ran out: it serves nothing now
				continue
			}
			if end.After(until) {
				until = end
			}
		}
		missing := len(w.need)
		s.acks.mu.Unlock()
		if missing == 0 {
			return nil
		}
		t.Reset(time.Until(until))
		select {
		case <-w.changed:
		case <-t.C:
			s.log.WarnContext(ctx, "pgstore: instances did not confirm an ended session within their lease; their caches stop serving by now",
				"missing", missing, "lease", s.feedLease)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// feedBatch is sql (with args) after the feed's advisory lock, exclusive
// (a presence renewal) or shared (a Delete), in one implicit transaction
// and one round trip: the lock is held from before sql's snapshot until
// the commit.
func (s *Store) feedBatch(exclusive bool, sql string, args ...any) *pgx.Batch {
	b := &pgx.Batch{}
	if exclusive {
		b.Queue("SELECT pg_advisory_xact_lock($1)", s.t.feedKey)
	} else {
		b.Queue("SELECT pg_advisory_xact_lock_shared($1)", s.t.feedKey)
	}
	b.Queue(sql, args...)
	return b
}

// listener keeps one LISTEN connection (not from the pool) to channels
// until ctx ends or the store is closed, reconnecting after any error.
type listener struct {
	s        *Store
	channels []string
	onNote   func(*pgconn.Notification)
	onUp     func(bool)
	live     bool
}

func (l *listener) run(ctx context.Context) {
	for {
		err := l.serve(ctx)
		if ctx.Err() != nil || l.s.bg.Err() != nil {
			return
		}
		l.onUp(false)
		if l.live {
			l.live = false
			l.s.log.Warn("pgstore: lost a LISTEN connection; cached sessions are bypassed until it is back", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-l.s.bg.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

func (l *listener) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.s.bg, cancel)()
	cctx, ccancel := l.s.opCtx(ctx)
	conn, err := pgx.ConnectConfig(cctx, l.s.connCfg.Copy())
	ccancel()
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	for _, ch := range l.channels {
		octx, ocancel := l.s.opCtx(ctx)
		_, err := conn.Exec(octx, "LISTEN "+pgx.Identifier{ch}.Sanitize())
		ocancel()
		if err != nil {
			return err
		}
	}
	l.live = true
	l.onUp(true)
	for {
		wctx, wcancel := context.WithTimeout(ctx, listenQuiet)
		n, err := conn.WaitForNotification(wctx)
		wcancel()
		if err == nil {
			l.onNote(n)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed() {
			return err
		}
		pctx, pcancel := l.s.opCtx(ctx)
		err = conn.Ping(pctx)
		pcancel()
		if err != nil {
			return err
		}
	}
}
