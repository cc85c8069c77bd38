package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ParseUniversalURL parses the Sentinel and Cluster forms of SESSION_STORE
// into go-redis universal options for Options.Universal:
//
//	redis-sentinel://[user:pass@]host:26379[,host2:26379...]/<master>[?db=N&sentinel_password=...]
//	redis-cluster://[user:pass@]host:6379[,host2:6379...]
//
// user:pass authenticate to the Redis data nodes; sentinel_password (if the
// Sentinels need one) to the Sentinels. Both forms also take the connection
// parameters dial_timeout, read_timeout, write_timeout, pool_timeout (a
// duration such as 500ms, or whole seconds; 0 or less turns the timeout off),
// max_retries (-1: none), pool_size, and redis-cluster:// max_redirects;
// op_timeout and feed_lease are accepted but only Options.URL applies them
// (see New). Any other parameter is an error. TLS is not configurable in these forms; give
// Options.Universal directly for that.
func ParseUniversalURL(raw string) (*redis.UniversalOptions, error) {
	o, _, err := parseUniversalURL(raw)
	return o, err
}

// storeParams are the URL parameters the store itself reads, in every
// form; 0 when absent.
type storeParams struct {
	opTimeout time.Duration // op_timeout
	feedLease time.Duration // feed_lease
}

func (q *query) storeParams() storeParams {
	return storeParams{opTimeout: q.duration("op_timeout"), feedLease: q.duration("feed_lease")}
}

// parseUniversalURL is ParseUniversalURL that also returns the store's own
// parameters.
func parseUniversalURL(raw string) (*redis.UniversalOptions, storeParams, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "redis-sentinel" && scheme != "redis-cluster") {
		return nil, storeParams{}, errors.New("redisstore: parse URL: want redis-sentinel:// or redis-cluster://")
	}
	// Several comma-separated hosts do not parse as one URL host, so parse a
	// placeholder host and split the real list by hand.
	hostEnd := strings.IndexAny(rest, "/?")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	authority, tail := rest[:hostEnd], rest[hostEnd:]
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	u, err := url.Parse("redis://" + userinfo + "placeholder" + tail)
	if err != nil {
		return nil, storeParams{}, fmt.Errorf("redisstore: parse URL: %w", err)
	}
	o := &redis.UniversalOptions{}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if !strings.Contains(h, ":") {
			h += map[string]string{"redis-sentinel": ":26379", "redis-cluster": ":6379"}[scheme]
		}
		o.Addrs = append(o.Addrs, h)
	}
	if len(o.Addrs) == 0 {
		return nil, storeParams{}, errors.New("redisstore: parse URL: no host")
	}
	o.Username = u.User.Username()
	o.Password, _ = u.User.Password()
	q := query{v: u.Query()}
	path := strings.Trim(u.Path, "/")
	if scheme == "redis-sentinel" {
		if path == "" || strings.Contains(path, "/") {
			return nil, storeParams{}, errors.New("redisstore: parse URL: redis-sentinel:// needs the master name as its path, e.g. /mymaster")
		}
		o.MasterName = path
		o.SentinelPassword = q.string("sentinel_password")
		if db := q.string("db"); db != "" {
			if o.DB, err = strconv.Atoi(db); err != nil || o.DB < 0 {
				return nil, storeParams{}, fmt.Errorf("redisstore: parse URL: db %q is not a database number", db)
			}
		}
	} else {
		if path != "" {
			return nil, storeParams{}, errors.New("redisstore: parse URL: redis-cluster:// takes no path (Cluster has database 0 only)")
		}
		o.IsClusterMode = true // the cluster client even with one seed address
		o.MaxRedirects = q.int("max_redirects")
	}
	o.DialTimeout = q.duration("dial_timeout")
	o.ReadTimeout = q.duration("read_timeout")
	o.WriteTimeout = q.duration("write_timeout")
	o.PoolTimeout = q.duration("pool_timeout")
	o.MaxRetries = q.int("max_retries")
	o.PoolSize = q.int("pool_size")
	p := q.storeParams()
	if err := q.done(); err != nil {
		return nil, storeParams{}, err
	}
	return o, p, nil
}

// splitStoreParams removes the store's own parameters from a redis:// or
// rediss:// URL (go-redis parses the rest, and would reject them).
func splitStoreParams(raw string) (string, storeParams, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, storeParams{}, nil // go-redis reports a bad URL itself
	}
	v := u.Query()
	mine := url.Values{}
	for _, k := range []string{"op_timeout", "feed_lease"} {
		if v.Has(k) {
			mine[k] = v[k]
			v.Del(k)
		}
	}
	if len(mine) == 0 {
		return raw, storeParams{}, nil
	}
	q := query{v: mine}
	p := q.storeParams()
	if err := q.done(); err != nil {
		return "", storeParams{}, err
	}
	u.RawQuery = v.Encode()
	return u.String(), p, nil
}

// query reads URL query parameters the way go-redis's ParseURL does, and
// remembers the first problem and which parameters were read.
type query struct {
	v    url.Values
	read []string
	err  error
}

func (q *query) string(name string) string {
	q.read = append(q.read, name)
	vs := q.v[name]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func (q *query) int(name string) int {
	s := q.string(name)
	if s == "" {
		return 0
	}
	i, err := strconv.Atoi(s)
	if err != nil && q.err == nil {
		q.err = fmt.Errorf("redisstore: parse URL: %s %q is not a whole number", name, s)
	}
	return i
}

// duration is a time.ParseDuration value or whole seconds; 0 or less
// means off (-1), as in go-redis.
func (q *query) duration(name string) time.Duration {
	s := q.string(name)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if i, ierr := strconv.Atoi(s); ierr == nil {
		d, err = time.Duration(i)*time.Second, nil
	}
	if err != nil {
		if q.err == nil {
			q.err = fmt.Errorf("redisstore: parse URL: %s %q is not a duration (e.g. 500ms, 2s)", name, s)
		}
		return 0
	}
	if d <= 0 {
		return -1
	}
	return d
}

// done returns the first problem, or an error naming the parameters that
// were never read.
func (q *query) done() error {
	if q.err != nil {
		return q.err
	}
	var unknown []string
	for k := range q.v {
		if !slices.Contains(q.read, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("redisstore: parse URL: unknown parameter %s", strings.Join(unknown, ", "))
	}
	return nil
}
