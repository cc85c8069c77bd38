package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/boltstore"
	"github.com/authbff/authbff/internal/session/pgstore"
	"github.com/authbff/authbff/internal/session/redisstore"
)

// openStore opens spec with the product's store (for the read-back).
func openStore(spec string) (session.Store, error) {
	if path, ok := strings.CutPrefix(spec, "bolt:"); ok {
		return boltstore.Open(path, boltstore.Options{CleanupInterval: -1})
	}
	if isPostgres(spec) {
		return pgstore.New(pgstore.Options{URL: spec, PurgeEvery: -1})
	}
	return redisstore.New(redisstore.Options{URL: spec})
}

// boltBatch is one transaction's worth of encoded entries, in key order.
type boltBatch struct {
	ids, vals, users, expiries [][]byte
	sealed                     int
	err                        error
}

// entry is a session to seed: its cookie token and record id.
type entry struct{ token, id string }

func seedBolt(ctx context.Context, g *generator, path string, n, batch, workers int, fill float64) (seedResult, error) {
	// Opening through boltstore first creates the file and buckets exactly
	// as authbff does.
	st, err := boltstore.Open(path, boltstore.Options{CleanupInterval: -1})
	if err != nil {
		return seedResult{}, err
	}
	if err := st.Close(); err != nil {
		return seedResult{}, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true, NoFreelistSync: true})
	if err != nil {
		return seedResult{}, err
	}
	size0 := dataSize(db)
	all := make([]entry, n)
	for i := range all {
		tok, err := session.NewToken()
		if err != nil {
			_ = db.Close()
			return seedResult{}, err
		}
		all[i] = entry{tok, session.IDFromToken(tok)}
		if i < len(g.tokens) {
			g.tokens[i] = tok
		}
	}
	res := seedResult{}
	if n > 0 {
		res.probeToken = all[n/2].token
	}
	// Sequential B+tree inserts: sorted by record id.
	slices.SortFunc(all, func(a, b entry) int { return strings.Compare(a.id, b.id) })

	// Workers seal batches in any order; the writer takes them in order.
	// slots bounds how far the sealing runs ahead of the writes.
	nb := (n + batch - 1) / batch
	results := make([]chan boltBatch, nb)
	for i := range results {
		results[i] = make(chan boltBatch, 1)
	}
	jobs := make(chan int)
	slots := make(chan struct{}, workers+1)
	go func() {
		defer close(jobs)
		for j := range nb {
			slots <- struct{}{}
			jobs <- j
		}
	}()
	for range workers {
		s, err := g.sealer()
		if err != nil {
			_ = db.Close()
			return seedResult{}, err
		}
		go func() {
			for j := range jobs {
				results[j] <- s.boltBatch(ctx, all, j*batch, min((j+1)*batch, n), n)
			}
		}()
	}
	var werr error
	for j := range nb {
		b := <-results[j]
		<-slots
		if werr != nil {
			continue // drain
		}
		if werr = b.err; werr != nil {
			continue
		}
		res.sealedBytes = b.sealed
		werr = db.Update(func(tx *bolt.Tx) error {
			bs, bu, be := tx.Bucket([]byte("sessions")), tx.Bucket([]byte("users")), tx.Bucket([]byte("expiry"))
			if bs == nil || bu == nil || be == nil {
				return fmt.Errorf("%s: missing buckets (not a boltstore file?)", path)
			}
			bs.FillPercent, bu.FillPercent, be.FillPercent = fill, fill, fill
			for i := range b.ids {
				if err := bs.Put(b.ids[i], b.vals[i]); err != nil {
					return err
				}
				if err := bu.Put(b.users[i], nil); err != nil {
					return err
				}
				if err := be.Put(b.expiries[i], nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if werr == nil {
		werr = db.Sync()
	}
	if werr != nil {
		_ = db.Close()
		return seedResult{}, werr
	}
	if n > 0 {
		res.perSession = float64(dataSize(db)-size0) / float64(n)
	}
	return res, db.Close()
}

// boltBatch seals the records of all[lo:hi] (of n, for the expiry spread).
func (s *sealer) boltBatch(ctx context.Context, all []entry, lo, hi, n int) boltBatch {
	var b boltBatch
	for i := lo; i < hi; i++ {
		rec, err := s.record(ctx, all[i].token, expiry(i, n))
		if err != nil {
			b.err = err
			return b
		}
		b.sealed = len(rec.Sealed)
		b.ids = append(b.ids, []byte(rec.ID))
		b.vals = append(b.vals, session.MarshalRecord(rec))
		b.users = append(b.users, append(append([]byte(rec.UserKey), 0), rec.ID...))
		ek := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(rec.ID)), uint64(rec.Expires.UnixNano()))
		b.expiries = append(b.expiries, append(ek, rec.ID...))
	}
	return b
}

// dataSize is the bytes of the file in use (up to the high-water page,
// not counting the preallocated tail of the mmap-grown file).
func dataSize(db *bolt.DB) int64 {
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}
