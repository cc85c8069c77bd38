package config

import (
	"fmt"
	"github.com/authbff/authbff/internal/validate"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// env answers lookups from the real environment first, then from the
// merged dotenv files.
type env struct {
	real  func(string) (string, bool)
	files map[string]string
	keys  []string // every known variable name, sorted and deduplicated
	// fromFile holds the secret variables read from their <NAME>_FILE
	// (secretfiles.go).
	fromFile map[string]string
	// asked records every name looked up, so the names set but never read
	// can be warned about (unknown.go).
	asked map[string]bool
}

// newEnv builds the lookup for src, reading its dotenv files and adding
// their problems to probs.
func newEnv(src Source, probs *Problems) *env {
	real := src.Getenv
	if real == nil {
		m := map[string]string{}
		for _, kv := range src.Environ {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = v
			}
		}
		real = func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	nodeEnv, _ := real("NODE_ENV")
	nodeEnv = strings.TrimSpace(nodeEnv)
	if nodeEnv != "" && !validVarName(strings.ReplaceAll(nodeEnv, "-", "_")) {
		probs.add("NODE_ENV", fmt.Sprintf("%q cannot name a dotenv file", nodeEnv),
			"set NODE_ENV to development, production or test")
		nodeEnv = ""
	}
	e := &env{real: real, files: map[string]string{}, asked: map[string]bool{}}
	if !src.NoFiles {
		e.files = readDotenv(src.Dir, dotenvFiles(nodeEnv), probs)
	}
	seen := map[string]bool{}
	for _, kv := range src.Environ {
		if k, _, ok := strings.Cut(kv, "="); ok {
			seen[k] = true
		}
	}
	for k := range e.files {
		seen[k] = true
	}
	for k := range seen {
		e.keys = append(e.keys, k)
	}
	sort.Strings(e.keys)
	e.readSecretFiles(probs)
	sort.Strings(e.keys)
	return e
}

// get returns the whitespace-trimmed value of k; a variable present in the
// real environment wins even when empty. "" means unset or blank. A secret
// variable set through <k>_FILE has the file's content.
func (e *env) get(k string) string {
	e.asked[k] = true
	if v, ok := e.fromFile[k]; ok {
		return strings.TrimSpace(v)
	}
	return e.lookup(k)
}

// peek is get for a scan over every key (which ones name a provider...):
// it does not count as reading the variable (unknown.go).
func (e *env) peek(k string) string {
	if v, ok := e.fromFile[k]; ok {
		return strings.TrimSpace(v)
	}
	if v, ok := e.real(k); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(e.files[k])
}

// lookup is get without the secret files.
func (e *env) lookup(k string) string {
	e.asked[k] = true
	if v, ok := e.real(k); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(e.files[k])
}

// isSet reports whether k is present at all, in the real environment, a
// dotenv file or (a secret variable) through <k>_FILE, even with an empty
// value.
func (e *env) isSet(k string) bool {
	e.asked[k] = true
	if _, ok := e.fromFile[k]; ok {
		return true
	}
	return e.isSetPlain(k)
}

// isSetPlain is isSet without the secret files.
func (e *env) isSetPlain(k string) bool {
	e.asked[k] = true
	if _, ok := e.real(k); ok {
		return true
	}
	_, ok := e.files[k]
	return ok
}

// splitList splits a comma-separated list, trimming items and dropping
// empty ones.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseBool accepts 1/0, true/false, yes/no, on/off in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// parseDuration reads a whole number of seconds ("2592000", like NextAuth's
// maxAge) or a Go duration ("720h"). Negative values are refused.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if n > math.MaxInt64/uint64(time.Second) {
			return 0, fmt.Errorf("%q seconds is too long", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a number of seconds nor a Go duration: %w", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// The shared checks (package validate), under the names this package's
// loaders use.
var (
	parseHTTPURL = validate.HTTPURL
	parseIssuer  = validate.Issuer
	isLoopback   = validate.Loopback
	checkStore   = validate.StoreSpec
	processLocal = validate.ProcessLocal
	canonicalAlg = validate.IDTokenAlg
	idTokenAlgs  = validate.IDTokenAlgs
)

// RedactURL is validate.RedactURL: raw with its secrets hidden.
func RedactURL(raw string) string { return validate.RedactURL(raw) }

// RedactError is validate.RedactError: err with raw's secrets hidden.
func RedactError(err error, raw string) error { return validate.RedactError(err, raw) }
