package pgstore

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbff/authbff/internal/session"
)

var (
	_ session.LeasedWatcher = (*Store)(nil)
	_ session.WatchWaiter   = (*Store)(nil)
)

// Watch is WatchLeased without the lease: see there.
func (s *Store) Watch(ctx context.Context, changed func(id string), healthy func(ok bool)) {
	s.WatchLeased(ctx, changed, healthy)
}

// WatchLeased reports, until ctx ends or the store is closed, every record
// written or ended through any Store sharing this database, schema and
// prefix (this one included), through a LISTEN connection of its own (see
// feed.go). healthy(true) is called once the connection listens, and again
// after every reconnection; healthy(false) as soon as it is lost.
//
// current reports whether the watch's presence lease holds: its row in
// <prefix>presence was renewed less than FeedLease ago and that renewal's
// probe came back through the LISTEN connection, so every session whose
// Delete has returned has been passed to changed. It turns false within
// FeedLease when the renewals fail or the connection stops delivering.
// The presence is withdrawn when ctx ends; WaitWatch waits for the watch
// to stop. On a closed store it starts nothing and current stays false.
func (s *Store) WatchLeased(ctx context.Context, changed func(id string), healthy func(ok bool)) (current func() bool) {
	s.startAcks() // a watching instance deletes too: be ready
	p := &presence{s: s, member: strings.ToLower(rand.Text()[:16])}
	probe := s.ch.probe(p.member)
	l := &listener{s: s, channels: []string{s.ch.changes(), s.ch.ends(), probe},
		onNote: func(n *pgconn.Notification) {
			switch n.Channel {
			case probe:
				p.probed(n.Payload)
			case s.ch.changes():
				changed(n.Payload)
			default:
				origin, rest, _ := strings.Cut(n.Payload, " ")
				seq, id, _ := strings.Cut(rest, " ")
				if id != "" {
					changed(id)
				}
				if origin != "" && seq != "" {
					s.goWatch(ctx, func() { s.sendAck(ctx, origin, seq, p.member) })
				}
			}
		},
		onUp: func(up bool) {
			if !up {
				p.lost()
			}
			healthy(up)
		},
	}
	s.goWatch(ctx, func() { l.run(ctx) })
	s.goWatch(ctx, func() { p.run(ctx) })
	return p.current
}

// sendAck tells origin that member dropped the id of its end seq.
func (s *Store) sendAck(ctx context.Context, origin, seq, member string) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	defer context.AfterFunc(s.bg, cancel)()
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.ch.ack(origin), seq+" "+member); err != nil && s.bg.Err() == nil {
		s.log.Warn("pgstore: acknowledge an ended session", "err", err)
	}
}

// WaitWatch returns once the watch started with ctx (by Watch or
// WatchLeased, given this very ctx) has stopped: it calls changed and
// healthy no more, its presence is withdrawn and its goroutines have
// ended. Without such a watch it returns at once.
func (s *Store) WaitWatch(ctx context.Context) {
	s.gmu.Lock()
	w := s.watches[ctx]
	s.gmu.Unlock()
	if w != nil {
		<-w.done
	}
}

// watchGroup counts the goroutines of the watches started with one ctx.
type watchGroup struct {
	n    int
	done chan struct{}
}

// goWatch runs f in a goroutine of the watch started with ctx, which
// WaitWatch(ctx) and Close wait for, unless the store is closed.
func (s *Store) goWatch(ctx context.Context, f func()) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if s.closed.Load() {
		return
	}
	w := s.watches[ctx]
	if w == nil {
		if s.watches == nil {
			s.watches = make(map[context.Context]*watchGroup)
		}
		w = &watchGroup{done: make(chan struct{})}
		s.watches[ctx] = w
	}
	w.n++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.gmu.Lock()
			defer s.gmu.Unlock()
			if w.n--; w.n == 0 {
				delete(s.watches, ctx)
				close(w.done)
			}
		}()
		f()
	}()
}

// presence is one watch's row in <prefix>presence and its lease.
type presence struct {
	s      *Store
	member string
	// until is when the lease ends, in nanoseconds since s.base; 0: none.
	until atomic.Int64
}

func (p *presence) current() bool { return int64(time.Since(p.s.base)) < p.until.Load() }

// probed extends the lease after the probe sent at sent came back.
func (p *presence) probed(payload string) {
	sent, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		return
	}
	until := sent + int64(p.s.feedLease)
	for {
		cur := p.until.Load()
		if cur >= until || p.until.CompareAndSwap(cur, until) {
			return
		}
	}
}

func (p *presence) lost() { p.until.Store(0) }

// run renews the presence every FeedLease/3 until ctx ends or the store is
// closed, then withdraws it so that Deletes stop waiting for it.
func (p *presence) run(ctx context.Context) {
	s := p.s
	t := time.NewTicker(max(s.feedLease/3, time.Millisecond))
	defer t.Stop()
	for {
		if err := p.renew(ctx); err != nil && ctx.Err() == nil && s.bg.Err() == nil {
			s.log.Debug("pgstore: renew the feed's presence", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-s.bg.Done():
		case <-t.C:
			continue
		}
		break
	}
	p.lost()
	wctx, cancel := context.WithTimeout(context.Background(), min(s.feedLease, time.Second))
	defer cancel()
	_, _ = s.pool.Exec(wctx, "DELETE FROM "+s.t.presence+" WHERE member = $1", p.member)
}

// renew is one renewal: under the feed's advisory lock (exclusive: no
// Delete is between its snapshot and its commit), the row's expiry becomes
// the database's now + FeedLease, and the probe is notified.
func (p *presence) renew(ctx context.Context) error {
	s := p.s
	sent := time.Since(s.base)
	rctx, cancel := context.WithTimeout(ctx, s.feedLease)
	defer cancel()
	defer context.AfterFunc(s.bg, cancel)()
	if err := s.ensureSchema(rctx); err != nil {
		return err
	}
	b := s.pool.SendBatch(rctx, s.feedBatch(true,
		`WITH r AS (INSERT INTO `+s.t.presence+` (member, expires)
			VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond')
			ON CONFLICT (member) DO UPDATE SET expires = EXCLUDED.expires RETURNING 1),
		d AS (DELETE FROM `+s.t.presence+` WHERE expires < clock_timestamp() - interval '1 minute')
		SELECT pg_notify($3, $4)`,
		p.member, s.feedLease.Milliseconds(), s.ch.probe(p.member), strconv.FormatInt(int64(sent), 10)))
	return b.Close()
}
