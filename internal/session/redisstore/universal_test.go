package redisstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authbff/authbff/internal/session/redisstore"
)

func TestParseUniversalURL(t *testing.T) {
	o, err := redisstore.ParseUniversalURL("redis-sentinel://u:p%40ss@s1:26379,s2,s3:26380/mymaster?db=2&sentinel_password=sp")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Addrs, []string{"s1:26379", "s2:26379", "s3:26380"}) || o.MasterName != "mymaster" ||
		o.DB != 2 || o.Username != "u" || o.Password != "p@ss" || o.SentinelPassword != "sp" {
		t.Fatalf("sentinel options = %+v", o)
	}
	o, err = redisstore.ParseUniversalURL("redis-cluster://n1:7000,n2:7001")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Addrs, []string{"n1:7000", "n2:7001"}) || !o.IsClusterMode || o.MasterName != "" {
		t.Fatalf("cluster options = %+v", o)
	}
	for _, bad := range []string{
		"redis://h:6379", "redis-sentinel://h:26379", "redis-sentinel://h/a/b",
		"redis-cluster://h:6379/0", "redis-cluster:///", "redis-sentinel://h/m?db=x",
	} {
		if _, err := redisstore.ParseUniversalURL(bad); err == nil {
			t.Errorf("ParseUniversalURL(%q) = nil error", bad)
		}
	}
}

// TestURLConnectionParams: every URL form takes the timeouts and retries,
// and the clients New makes honour context deadlines.
func TestURLConnectionParams(t *testing.T) {
	const q = "dial_timeout=250ms&read_timeout=2&write_timeout=0&max_retries=-1&op_timeout=300ms"
	o, err := redisstore.ParseUniversalURL("redis-sentinel://s1,s2/m?" + q + "&pool_size=7")
	if err != nil {
		t.Fatal(err)
	}
	if o.DialTimeout != 250*time.Millisecond || o.ReadTimeout != 2*time.Second || o.WriteTimeout != -1 ||
		o.MaxRetries != -1 || o.PoolSize != 7 {
		t.Fatalf("sentinel options = %+v", o)
	}
	type clientOpts struct {
		dial, read, write time.Duration
		retries           int
		ctxTimeout        bool
	}
	tests := []struct {
		url  string
		mod  func(*redisstore.Options)
		want clientOpts
	}{
		// go-redis stores "no retries" (-1) as 0 once normalised.
		{"redis://127.0.0.1:1/0?" + q, nil, clientOpts{250 * time.Millisecond, 2 * time.Second, 0, 0, true}},
		{"redis-sentinel://127.0.0.1:1/m?" + q, nil, clientOpts{250 * time.Millisecond, 2 * time.Second, 0, 0, true}},
		{"redis-cluster://127.0.0.1:1,127.0.0.1:2?" + q, nil, clientOpts{250 * time.Millisecond, 2 * time.Second, 0, -1, true}},
		{"redis-cluster://127.0.0.1:1", func(o *redisstore.Options) {
			o.DialTimeout, o.ReadTimeout, o.MaxRetries = time.Second, 3*time.Second, 2
		}, clientOpts{time.Second, 3 * time.Second, 3 * time.Second, 2, true}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			o := redisstore.Options{URL: tc.url}
			if tc.mod != nil {
				tc.mod(&o)
			}
			s, err := redisstore.New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got clientOpts
			switch c := s.Client().(type) {
			case *redis.Client:
				co := c.Options()
				got = clientOpts{co.DialTimeout, co.ReadTimeout, co.WriteTimeout, co.MaxRetries, co.ContextTimeoutEnabled}
			case *redis.ClusterClient:
				co := c.Options()
				got = clientOpts{co.DialTimeout, co.ReadTimeout, co.WriteTimeout, co.MaxRetries, co.ContextTimeoutEnabled}
			default:
				t.Fatalf("client %T", c)
			}
			if got != tc.want {
				t.Fatalf("client options = %+v, want %+v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{
		"redis://127.0.0.1:1/0?op_timeout=soon", "redis://127.0.0.1:1/0?bogus=1",
		"redis-cluster://h?bogus=1", "redis-cluster://h?db=1", "redis-sentinel://h/m?max_redirects=2",
		"redis-sentinel://h/m?dial_timeout=x", "redis-sentinel://h/m?max_retries=many",
	} {
		if _, err := redisstore.New(redisstore.Options{URL: bad}); err == nil {
			t.Errorf("New(%q) = nil error", bad)
		}
	}
}
