// Command seed fills a session store with synthetic sessions for bench/run's
// scale runs: N records with random ids, a random user each, expiries spread
// over the next 30 days and a sealed payload of realistic size (random bytes,
// as ciphertext is). Nobody can open them (no cookie token exists for them);
// they are there to make the store big.
//
//	seed -store bolt:/tmp/x/sessions.db -n 1000000
//	seed -store redis://127.0.0.1:6379/1 -n 1000000
//	seed -store ... -n N -template-store redis://... -template-token <cookie value>
//	    copies the field sizes of a real session (read through redisstore)
//
// Bolt: the store must not be open elsewhere (bbolt locks the file). Records
// are encoded with session.MarshalRecord (what boltstore writes) by one
// goroutine while another writes them with bbolt directly, sorted, one
// Update per -batch records, without an fsync per transaction (one at the
// end, so no writeback is left for the measurements); at the end the file is
// reopened with boltstore.Open and a seeded record is read back to prove the
// layout matches.
// Redis: -workers goroutines, each sending pipelines of -redis-batch records:
// SET ... PXAT with redisstore.EncodeRecord's value plus the per-user index
// (ZADD + PEXPIREAT), the same keys redisstore writes; a seeded record is
// read back through redisstore.Get. It prints one JSON line with the bytes
// used per session (bolt: growth of the used file size / N, and the file's
// size; redis: INFO used_memory growth / N).
package main

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/boltstore"
	"github.com/authbff/authbff/internal/session/redisstore"
)

type shape struct {
	Sealed, UserAgent, SID int
}

func main() {
	spec := flag.String("store", "", "bolt:<path> or redis://host:port/db")
	n := flag.Int("n", 1000, "records to add")
	batch := flag.Int("batch", 20000, "records per bolt transaction")
	rbatch := flag.Int("redis-batch", 1000, "records per redis pipeline")
	workers := flag.Int("workers", 8, "parallel redis pipelines")
	sealed := flag.Int("sealed", 600, "sealed payload bytes (without a template)")
	tStore := flag.String("template-store", "", "redis URL holding a real session to copy sizes from")
	tToken := flag.String("template-token", "", "that session's cookie value")
	label := flag.String("label", "", "name printed with the result")
	fill := flag.Float64("fill", 0.7, "bolt page fill percent (random-order inserts settle near 0.7)")
	flag.Parse()
	if *spec == "" || *n < 0 || *batch <= 0 || *rbatch <= 0 || *workers <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	sh := shape{Sealed: *sealed, UserAgent: len("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")}
	if *tStore != "" {
		s, err := redisstore.New(redisstore.Options{URL: *tStore})
		check(err)
		rec, err := s.Get(ctx, session.IDFromToken(*tToken))
		check(err)
		sh = shape{Sealed: len(rec.Sealed), UserAgent: len(rec.UserAgent), SID: len(rec.SID)}
		_ = s.Close()
	}
	start := time.Now()
	var perSession float64
	var probe string
	var err error
	out := map[string]any{}
	switch {
	case strings.HasPrefix(*spec, "bolt:"):
		path := strings.TrimPrefix(*spec, "bolt:")
		perSession, probe, err = seedBolt(path, *n, *batch, *fill, sh)
		if fi, serr := os.Stat(path); serr == nil {
			out["file_bytes"] = fi.Size()
		}
	case strings.HasPrefix(*spec, "redis://"):
		perSession, probe, err = seedRedis(ctx, *spec, *n, *rbatch, *workers, sh)
	default:
		err = fmt.Errorf("unknown store %q", *spec)
	}
	check(err)
	out["label"], out["added"], out["seconds"] = *label, *n, time.Since(start).Seconds()
	out["sealed_bytes"], out["bytes_per_session"], out["verified_id"] = sh.Sealed, int(perSession), probe
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

// newRand returns a fast generator seeded from crypto/rand (ChaCha8: its
// output looks like ciphertext, which is all the sealed payloads need).
func newRand() *rand.ChaCha8 {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}

func randHex(r *rand.ChaCha8, nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = r.Read(b)
	return hex.EncodeToString(b)
}

// fakeRecord makes a record with id shaped like sh, expiring at exp.
func fakeRecord(r *rand.ChaCha8, id string, exp time.Time, sh shape) *session.Record {
	sub := id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
	s := make([]byte, sh.Sealed)
	_, _ = r.Read(s)
	now := time.Now()
	return &session.Record{
		ID: id, UserKey: session.UserKey("cognito", sub), SID: strings.Repeat("s", sh.SID),
		Created: now, LastSeen: now, Expires: exp,
		UserAgent: strings.Repeat("u", sh.UserAgent), Version: 1, Sealed: s,
	}
}

// ids returns n random record ids, sorted (sequential B+tree inserts).
func ids(n int) []string {
	r := newRand()
	out := make([]string, n)
	for i := range out {
		out[i] = randHex(r, 32)
	}
	slices.Sort(out)
	return out
}

// expiry spreads expiries over the next 30 days, increasing with i, never
// sooner than an hour from now.
func expiry(i, n int) time.Time {
	span := 30 * 24 * time.Hour
	return time.Now().Add(time.Hour + time.Duration(float64(span)*float64(i)/float64(max(n, 1))))
}

// --- bolt ------------------------------------------------------------------

// boltBatch is one transaction's worth of encoded entries, in key order.
type boltBatch struct {
	ids, vals, users, expiries [][]byte
}

func seedBolt(path string, n, batch int, fill float64, sh shape) (float64, string, error) {
	// Opening through boltstore first creates the file and buckets exactly
	// as authbff does.
	st, err := boltstore.Open(path, boltstore.Options{CleanupInterval: -1})
	if err != nil {
		return 0, "", err
	}
	if err := st.Close(); err != nil {
		return 0, "", err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true, NoFreelistSync: true})
	if err != nil {
		return 0, "", err
	}
	size0 := dataSize(db)
	all := ids(n)
	// One goroutine encodes the next batch while this one writes.
	batches := make(chan boltBatch, 2)
	go func() {
		defer close(batches)
		r := newRand()
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			var b boltBatch
			for i := lo; i < hi; i++ {
				rec := fakeRecord(r, all[i], expiry(i, n), sh)
				b.ids = append(b.ids, []byte(rec.ID))
				b.vals = append(b.vals, session.MarshalRecord(rec))
				b.users = append(b.users, append(append([]byte(rec.UserKey), 0), rec.ID...))
				ek := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(rec.ID)), uint64(rec.Expires.UnixNano()))
				b.expiries = append(b.expiries, append(ek, rec.ID...))
			}
			batches <- b
		}
	}()
	var werr error
	for b := range batches {
		if werr != nil {
			continue // drain
		}
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
		return 0, "", werr
	}
	per := 0.0
	if n > 0 {
		per = float64(dataSize(db)-size0) / float64(n)
	}
	if err := db.Close(); err != nil {
		return 0, "", err
	}
	if n == 0 {
		return per, "", nil
	}
	// Read one back through the real store.
	st, err = boltstore.Open(path, boltstore.Options{CleanupInterval: -1})
	if err != nil {
		return 0, "", err
	}
	defer st.Close()
	probe := all[n/2]
	rec, err := st.Get(context.Background(), probe)
	if err != nil {
		return 0, "", fmt.Errorf("read back %s: %w", probe[:8], err)
	}
	if len(rec.Sealed) != sh.Sealed {
		return 0, "", fmt.Errorf("read back %s: sealed %d bytes, want %d", probe[:8], len(rec.Sealed), sh.Sealed)
	}
	return per, probe[:8], nil
}

// dataSize is the bytes of the file in use (up to the high-water page,
// not counting the preallocated tail of the mmap-grown file).
func dataSize(db *bolt.DB) int64 {
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// --- redis -----------------------------------------------------------------

func usedMemory(ctx context.Context, c *redis.Client) (int64, error) {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory in INFO memory")
}

func seedRedis(ctx context.Context, u string, n, batch, workers int, sh shape) (float64, string, error) {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return 0, "", err
	}
	opt.PoolSize = max(opt.PoolSize, workers)
	c := redis.NewClient(opt)
	defer c.Close()
	mem0, err := usedMemory(ctx, c)
	if err != nil {
		return 0, "", err
	}
	prefix := redisstore.DefaultPrefix
	// Workers take ranges [lo, lo+batch) in turn, each one pipeline.
	ranges := make(chan int)
	go func() {
		defer close(ranges)
		for lo := 0; lo < n; lo += batch {
			ranges <- lo
		}
	}()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		probe string
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand()
			for lo := range ranges {
				mu.Lock()
				failed := first != nil
				mu.Unlock()
				if failed {
					continue // drain
				}
				hi := min(lo+batch, n)
				p := c.Pipeline()
				for i := lo; i < hi; i++ {
					rec := fakeRecord(r, randHex(r, 32), expiry(i, n), sh)
					if i == n/2 {
						mu.Lock()
						probe = rec.ID
						mu.Unlock()
					}
					b, err := redisstore.EncodeRecord(rec)
					if err != nil {
						mu.Lock()
						first = cmp.Or(first, err)
						mu.Unlock()
						break
					}
					exp := rec.Expires.UnixMilli()
					p.Do(ctx, "SET", prefix+"s:"+rec.ID, b, "PXAT", exp)
					// What redisstore's indexAdd script leaves: a one-member
					// sorted set expiring with it (the script's pruning is a
					// no-op here).
					ik := prefix + "u:" + rec.UserKey
					p.ZAdd(ctx, ik, redis.Z{Score: float64(exp), Member: rec.ID})
					p.PExpireAt(ctx, ik, rec.Expires)
				}
				if _, err := p.Exec(ctx); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return 0, "", first
	}
	mem1, err := usedMemory(ctx, c)
	if err != nil {
		return 0, "", err
	}
	per := 0.0
	if n > 0 {
		per = float64(mem1-mem0) / float64(n)
	}
	if n == 0 {
		return per, "", nil
	}
	st, err := redisstore.New(redisstore.Options{URL: u})
	if err != nil {
		return 0, "", err
	}
	defer st.Close()
	rec, err := st.Get(ctx, probe)
	if err != nil {
		return 0, "", fmt.Errorf("read back %s: %w", probe[:8], err)
	}
	if len(rec.Sealed) != sh.Sealed {
		return 0, "", fmt.Errorf("read back %s: sealed %d bytes, want %d", probe[:8], len(rec.Sealed), sh.Sealed)
	}
	return per, probe[:8], nil
}
