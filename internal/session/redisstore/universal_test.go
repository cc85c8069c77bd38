package redisstore_test

import (
	"slices"
	"testing"

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
