package main

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session"
	"github.com/authbff/authbff/internal/session/redisstore"
)

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

func seedRedis(ctx context.Context, g *generator, u string, n, batch, workers int) (seedResult, error) {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return seedResult{}, err
	}
	opt.PoolSize = max(opt.PoolSize, workers)
	c := redis.NewClient(opt)
	defer c.Close()
	mem0, err := usedMemory(ctx, c)
	if err != nil {
		return seedResult{}, err
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
		res   seedResult
	)
	fail := func(err error) {
		mu.Lock()
		first = cmp.Or(first, err)
		mu.Unlock()
	}
	for range workers {
		s, err := g.sealer()
		if err != nil {
			return seedResult{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
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
					tok, err := session.NewToken()
					if err != nil {
						fail(err)
						break
					}
					rec, err := s.record(ctx, tok, expiry(i, n))
					if err != nil {
						fail(err)
						break
					}
					if i < len(g.tokens) {
						g.tokens[i] = tok // each index is written by one worker only
					}
					if i == n/2 {
						mu.Lock()
						res.probeToken, res.sealedBytes = tok, len(rec.Sealed)
						mu.Unlock()
					}
					b, err := redisstore.EncodeRecord(rec)
					if err != nil {
						fail(err)
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
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return seedResult{}, first
	}
	mem1, err := usedMemory(ctx, c)
	if err != nil {
		return seedResult{}, err
	}
	if n > 0 {
		res.perSession = float64(mem1-mem0) / float64(n)
	}
	return res, nil
}
