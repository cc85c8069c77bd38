package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// profilePart is a share of a sign-in's CPU: a sample belongs to the first
// part (in this order) with a matching frame anywhere on its stack, so an
// allocation inside RSA verification counts as RSA verification.
type profilePart struct {
	name string
	re   *regexp.Regexp
}

var profileParts = []profilePart{
	{"RSA verify (ID token signature, crypto/rsa)", regexp.MustCompile(`^crypto/rsa\.|fips140/rsa\.|fips140/bigmod\.|^math/big\.`)},
	{"rest of the ID token check (JWS parsing, claims)", regexp.MustCompile(`lestrrat-go/jwx|authbff/internal/oidc\.\(\*Provider\)\.(verifyIDToken|checkTokenResponse|verifySignature)`)},
	{"session sealing (HKDF + AES-GCM of the session)", regexp.MustCompile(`authbff/internal/session\.\(\*sealer\)|authbff/internal/session\.appendData`)},
	{"flow cookie, CSRF token, PKCE (internal/auth)", regexp.MustCompile(`authbff/internal/auth\.`)},
	{"session store (flow replay mark, session write)", regexp.MustCompile(`authbff/internal/session/(boltstore|memstore|redisstore)\.|go\.etcd\.io/bbolt|redis/go-redis`)},
	{"token request to the IdP (HTTP client, dial, JSON)", regexp.MustCompile(`golang\.org/x/oauth2|authbff/internal/oidc\.|^net/http\.\(\*Transport\)|^net/http\.\(\*persistConn\)|^net/http\.\(\*Client\)|^net/http\.send|^net\.\(\*Dialer\)`)},
	{"logging (slog)", regexp.MustCompile(`^log/slog\.`)},
	{"GC (background workers)", regexp.MustCompile(`^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge)`)},
	{"HTTP server (read, parse, route, cookies, write)", regexp.MustCompile(`^net/http\.\(\*conn\)\.serve`)},
}

const otherPart = "other (scheduler, syscalls outside a request, timers)"

// parseTraces reads `go tool pprof -traces` output: blocks separated by
// "-----------+---..." lines, each a sample value and its stack, leaf first.
func parseTraces(path string) (map[string]time.Duration, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	parts := map[string]time.Duration{}
	var total time.Duration
	var (
		val   time.Duration
		stack []string
		in    bool
	)
	flush := func() {
		if !in || val == 0 {
			return
		}
		total += val
		for _, p := range profileParts {
			for _, fn := range stack {
				if p.re.MatchString(fn) {
					parts[p.name] += val
					return
				}
			}
		}
		parts[otherPart] += val
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			in, val, stack = true, 0, nil
			continue
		}
		if !in {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if val == 0 && len(stack) == 0 {
			d, err := time.ParseDuration(fs[0])
			if err != nil {
				continue // a label line ("bytes: ...") or a header
			}
			val = d
			fs = fs[1:]
		}
		if len(fs) > 0 {
			stack = append(stack, fs[0])
		}
	}
	flush()
	return parts, total, sc.Err()
}

func profileTable(path string, signins, procMS float64) error {
	parts, total, err := parseTraces(path)
	if err != nil {
		return err
	}
	if total == 0 || signins <= 0 {
		return fmt.Errorf("profile %s: %v of samples, %.0f sign-ins: nothing to split", path, total, signins)
	}
	fmt.Println("| part | CPU ms per sign-in | share |")
	fmt.Println("|---|---:|---:|")
	names := make([]string, 0, len(profileParts)+1)
	for _, p := range profileParts {
		names = append(names, p.name)
	}
	names = append(names, otherPart)
	for _, n := range names {
		d := parts[n]
		fmt.Printf("| %s | %.3f | %.1f%% |\n", n, d.Seconds()*1000/signins, 100*d.Seconds()/total.Seconds())
	}
	fmt.Printf("| **total (profile samples)** | **%.3f** | 100%% |\n", total.Seconds()*1000/signins)
	fmt.Println()
	if procMS > 0 {
		fmt.Printf("CPU per sign-in from /proc during the same run: %.3f ms (the profile samples at 100 Hz, so the two differ by sampling noise).\n", procMS)
	}
	return nil
}
