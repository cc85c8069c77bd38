package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseUniversalURL parses the Sentinel and Cluster forms of SESSION_STORE
// into go-redis universal options for Options.Universal:
//
//	redis-sentinel://[user:pass@]host:26379[,host2:26379...]/<master>[?db=N&sentinel_password=...]
//	redis-cluster://[user:pass@]host:6379[,host2:6379...]
//
// user:pass authenticate to the Redis data nodes; sentinel_password (if the
// Sentinels need one) to the Sentinels. TLS is not configurable in these
// forms; give Options.Universal directly for that.
func ParseUniversalURL(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "redis-sentinel" && scheme != "redis-cluster") {
		return nil, errors.New("redisstore: parse URL: want redis-sentinel:// or redis-cluster://")
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
		return nil, fmt.Errorf("redisstore: parse URL: %w", err)
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
		return nil, errors.New("redisstore: parse URL: no host")
	}
	o.Username = u.User.Username()
	o.Password, _ = u.User.Password()
	q := u.Query()
	path := strings.Trim(u.Path, "/")
	if scheme == "redis-sentinel" {
		if path == "" || strings.Contains(path, "/") {
			return nil, errors.New("redisstore: parse URL: redis-sentinel:// needs the master name as its path, e.g. /mymaster")
		}
		o.MasterName = path
		o.SentinelPassword = q.Get("sentinel_password")
		if db := q.Get("db"); db != "" {
			if o.DB, err = strconv.Atoi(db); err != nil || o.DB < 0 {
				return nil, fmt.Errorf("redisstore: parse URL: db %q is not a database number", db)
			}
		}
	} else {
		if path != "" {
			return nil, errors.New("redisstore: parse URL: redis-cluster:// takes no path (Cluster has database 0 only)")
		}
		o.IsClusterMode = true // the cluster client even with one seed address
	}
	return o, nil
}
