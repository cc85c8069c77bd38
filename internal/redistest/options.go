package redistest

// Options configure StartWithOptions.
type Options struct {
	// Persist turns on the append-only file (fsync on every write) in the
	// test's temporary directory, so the data survives Stop and Restart:
	// for tests of "the store comes back". It has no effect with REDIS_URL.
	Persist bool
	// Args are more redis-server arguments, e.g. "--maxmemory-policy",
	// "allkeys-lru". With REDIS_URL set they cannot apply: the test fails.
	Args []string
}
