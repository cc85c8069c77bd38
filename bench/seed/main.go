// Command seed fills a session store with real sessions for bench/run's
// working-set runs: N sessions sealed with the server secret (taken from
// the environment variable NEXTAUTH_SECRET, never from a flag) by
// session.Manager itself, each with its own user, expiries spread over the
// next 30 days, and the profile and OAuth tokens of a real session (the
// template) so the records have production size. Their cookie tokens can be
// written to a file, one per line (wrk's bench/lua/rotate.lua reads it), so
// a benchmark can sign in as any of them.
//
//	NEXTAUTH_SECRET=... seed -store bolt:/tmp/x/sessions.db -n 1000000 -tokens-out t.txt -tokens-n 100000
//	NEXTAUTH_SECRET=... seed -store redis://127.0.0.1:6379/1 -n 1000000 ...
//	NEXTAUTH_SECRET=... seed -store postgres://127.0.0.1:5432/db?schema=big -n 1000000 ...
//	    -template-store redis://... -template-token <cookie value>
//	    copies the Data (profile, tokens), SID and User-Agent of a real
//	    session, opened with the same secret; without it a synthetic
//	    session of similar size is used
//
// Bolt: the store must not be open elsewhere (bbolt locks the file). The
// records are sealed by -workers goroutines in batches of -batch, in record
// id order, and written with bbolt directly, one Update per batch, without
// an fsync per transaction (one at the end, so no writeback is left for the
// measurements), with session.MarshalRecord (what boltstore writes) and the
// per-user and expiry index entries boltstore keeps.
// Redis: -workers goroutines, each sending pipelines of -redis-batch
// records: SET ... PXAT with redisstore.EncodeRecord's value plus the
// per-user index (ZADD + PEXPIREAT), the keys redisstore writes.
// PostgreSQL: -workers goroutines, each COPYing batches of -redis-batch
// rows into the table pgstore creates (the rows pgstore.Create writes).
// Either way, a seeded session is then loaded back through the real store
// with a session.Manager and its cookie token, proving it opens. seed
// prints one JSON line: what it added, how long it took, the sealed size
// and the bytes used per session (bolt: growth of the used file size / N,
// and the file's size; redis: INFO used_memory growth / N).
package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

func main() {
	spec := flag.String("store", "", "bolt:<path>, redis://host:port/db or postgres://...")
	n := flag.Int("n", 1000, "sessions to add")
	batch := flag.Int("batch", 20000, "records per bolt transaction")
	rbatch := flag.Int("redis-batch", 1000, "records per redis pipeline or postgres COPY")
	workers := flag.Int("workers", 2, "sealing goroutines (bolt) / parallel pipelines (redis)")
	tStore := flag.String("template-store", "", "redis URL holding a real session to copy")
	tToken := flag.String("template-token", "", "that session's cookie value")
	tokOut := flag.String("tokens-out", "", "write cookie tokens of the seeded sessions to this file, one per line")
	tokN := flag.Int("tokens-n", 100000, "how many tokens to write (at most -n)")
	label := flag.String("label", "", "name printed with the result")
	fill := flag.Float64("fill", 0.7, "bolt page fill percent (random-order inserts settle near 0.7)")
	flag.Parse()
	if *spec == "" || *n < 0 || *batch <= 0 || *rbatch <= 0 || *workers <= 0 || *tokN < 0 {
		flag.Usage()
		os.Exit(2)
	}
	secret := os.Getenv("NEXTAUTH_SECRET")
	if len(secret) < session.MinSecretLen {
		check(fmt.Errorf("NEXTAUTH_SECRET must hold the server secret (at least %d bytes)", session.MinSecretLen))
	}
	ctx := context.Background()
	tmpl := syntheticTemplate()
	if *tStore != "" {
		var err error
		tmpl, err = readTemplate(ctx, *tStore, *tToken, secret)
		check(err)
	}
	g := &generator{secret: []byte(secret), tmpl: tmpl, tokens: make([]string, min(*tokN, *n))}
	start := time.Now()
	var (
		res seedResult
		err error
	)
	out := map[string]any{}
	switch {
	case strings.HasPrefix(*spec, "bolt:"):
		path := strings.TrimPrefix(*spec, "bolt:")
		res, err = seedBolt(ctx, g, path, *n, *batch, *workers, *fill)
		if fi, serr := os.Stat(path); serr == nil {
			out["file_bytes"] = fi.Size()
		}
	case strings.HasPrefix(*spec, "redis://"):
		res, err = seedRedis(ctx, g, *spec, *n, *rbatch, *workers)
	case isPostgres(*spec):
		var extra map[string]any
		res, extra, err = seedPostgres(ctx, g, *spec, *n, *rbatch, *workers)
		for k, v := range extra {
			out[k] = v
		}
	default:
		err = fmt.Errorf("unknown store %q", *spec)
	}
	check(err)
	if *n > 0 {
		check(verify(ctx, *spec, res.probeToken, g.secret, tmpl))
	}
	if *tokOut != "" {
		check(os.WriteFile(*tokOut, []byte(strings.Join(g.tokens, "\n")+"\n"), 0o600))
	}
	out["label"], out["added"], out["seconds"] = *label, *n, time.Since(start).Seconds()
	out["sealed_bytes"], out["bytes_per_session"] = res.sealedBytes, int(res.perSession)
	out["tokens"], out["access_token_bytes"], out["template"] = len(g.tokens), len(tmpl.data.Tokens.AccessToken), *tStore != ""
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

// seedResult is what a store seeder reports.
type seedResult struct {
	perSession  float64 // store bytes per added session
	sealedBytes int     // the sealed payload of one session
	probeToken  string  // the cookie token of a seeded session, to read back
}

// template is the real session copied into every seeded one.
type template struct {
	data           session.Data
	sid, userAgent string
}

func readTemplate(ctx context.Context, url, token, secret string) (template, error) {
	st, err := redisstore.New(redisstore.Options{URL: url})
	if err != nil {
		return template{}, err
	}
	defer st.Close()
	m, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{[]byte(secret)}})
	if err != nil {
		return template{}, err
	}
	defer m.Close()
	s, err := m.LoadFresh(ctx, token)
	if err != nil {
		return template{}, fmt.Errorf("template session: %w", err)
	}
	return template{data: s.Data, sid: s.SID, userAgent: s.UserAgent}, nil
}

// syntheticTemplate is a session shaped like one from the dev IdP (JWT ID
// and access tokens of about 1 kB).
func syntheticTemplate() template {
	r := newRand()
	tok := func(n int) string { return randHex(r, n/2) }
	return template{
		data: session.Data{
			Provider: "cognito", Issuer: "http://127.0.0.1:9229/us-east-1_authbffdev", Subject: "sub",
			User: session.User{Name: "Ada Lovelace", Email: "ada@example.com",
				Image: "https://upload.wikimedia.org/wikipedia/commons/a/a4/Ada_Lovelace_portrait.jpg"},
			Tokens: session.Tokens{IDToken: tok(1100), AccessToken: tok(950), RefreshToken: tok(64), TokenType: "Bearer",
				AccessExpiry: time.Now().Add(time.Hour)},
		},
		userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
	}
}

// generator makes sealed records. Each worker uses its own session (a
// Manager writing into a captureStore), so nothing is shared.
type generator struct {
	secret []byte
	tmpl   template
	tokens []string // the first len(tokens) seeded sessions' cookie tokens
}

// sealer is one worker's Manager and random source.
type sealer struct {
	m   *session.Manager
	cap *captureStore
	r   *rand.ChaCha8
	t   template
}

func (g *generator) sealer() (*sealer, error) {
	cs := &captureStore{}
	m, err := session.NewManager(session.ManagerOptions{Store: cs, Secrets: [][]byte{g.secret}})
	if err != nil {
		return nil, err
	}
	return &sealer{m: m, cap: cs, r: newRand(), t: g.tmpl}, nil
}

// record seals a session for token expiring at exp, for a fresh user.
func (s *sealer) record(ctx context.Context, token string, exp time.Time) (*session.Record, error) {
	id := randHex(s.r, 16)
	sub := id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
	d := s.t.data
	d.Subject, d.User.ID = sub, sub
	now := time.Now()
	sess := &session.Session{
		ID: session.IDFromToken(token), UserKey: session.UserKey(d.Provider, sub), SID: s.t.sid,
		UserAgent: s.t.userAgent, Created: now, LastSeen: now, Expires: exp, Data: d,
	}
	if err := s.m.Save(ctx, token, sess); err != nil {
		return nil, err
	}
	return s.cap.last, nil
}

// captureStore keeps the last record a Manager saves, for the seeder to
// write itself.
type captureStore struct{ last *session.Record }

func (c *captureStore) Get(context.Context, string) (*session.Record, error) {
	return nil, session.ErrNotFound
}
func (c *captureStore) Create(_ context.Context, rec *session.Record) error { c.last = rec; return nil }
func (c *captureStore) Update(_ context.Context, rec *session.Record, _ int64) error {
	c.last = rec
	return nil
}
func (c *captureStore) Delete(context.Context, string, time.Time) (*session.Record, error) {
	return nil, nil
}
func (c *captureStore) ListByUser(context.Context, string) ([]*session.Record, error) {
	return nil, nil
}
func (c *captureStore) ListBySID(context.Context, string) ([]*session.Record, error) {
	return nil, nil
}
func (c *captureStore) MarkUsed(context.Context, string, time.Time) (bool, error) { return false, nil }
func (c *captureStore) UnmarkUsed(context.Context, string) error                  { return nil }
func (c *captureStore) Ping(context.Context) error                                { return nil }
func (c *captureStore) Close() error                                              { return nil }

// newRand returns a fast generator seeded from crypto/rand.
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

// expiry spreads expiries over the next 30 days, increasing with i, never
// sooner than an hour from now.
func expiry(i, n int) time.Time {
	span := 30 * 24 * time.Hour
	return time.Now().Add(time.Hour + time.Duration(float64(span)*float64(i)/float64(max(n, 1))))
}

// verify loads the session of token through the real store and checks it
// opens to the template's profile.
func verify(ctx context.Context, spec, token string, secret []byte, t template) error {
	st, err := openStore(spec)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := session.NewManager(session.ManagerOptions{Store: st, Secrets: [][]byte{secret}})
	if err != nil {
		return err
	}
	defer m.Close()
	s, err := m.LoadFresh(ctx, token)
	if err != nil {
		return fmt.Errorf("read back a seeded session: %w", err)
	}
	if s.Data.User.Email != t.data.User.Email || s.Data.Tokens.AccessToken != t.data.Tokens.AccessToken {
		return errors.New("read back a seeded session: it does not hold the template's profile and tokens")
	}
	return nil
}
