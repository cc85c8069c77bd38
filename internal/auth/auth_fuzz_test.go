package auth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for every decoder of browser-controlled input in this
// package. Seeds live in testdata/fuzz/<name>/ and run in every `go test`;
// `make fuzz` explores further.

// fuzzNow is the fixed time of the fuzz targets' clock, so committed seeds
// (sealed under fuzzSecret at fuzzNow) keep opening.
func fuzzNow() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) }

func fuzzSecret() []byte { return []byte(strings.Repeat("k", 32)) }

func fuzzSealer(t testing.TB) *Sealer {
	t.Helper()
	s, err := NewSealer([][]byte{fuzzSecret(), []byte(strings.Repeat("o", 32))}, fuzzNow)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzFlowOpen feeds arbitrary flow cookie values (and the callback's state
// and provider) to Open and Peek: they must never panic, must fail only with
// ErrBadFlow, and Open must accept only a flow for that state and provider.
func FuzzFlowOpen(f *testing.F) {
	s := fuzzSealer(f)
	for _, fl := range []Flow{
		{Provider: "cognito", State: "st", Verifier: "v", Nonce: "n", CallbackURL: "https://app.example.com/a", Created: fuzzNow()},
		{Provider: "okta", State: strings.Repeat("S", 43), Created: fuzzNow().Add(-FlowMaxAge - time.Second)},
	} {
		v, err := s.Seal("c", fl)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("c", v, fl.State, fl.Provider)
	}
	f.Add("c", "", "", "")
	f.Add("c", "AAAA", "st", "cognito")
	f.Fuzz(func(t *testing.T, name, value, state, provider string) {
		peeked, perr := s.Peek(name, value)
		if perr != nil && !errors.Is(perr, ErrBadFlow) {
			t.Fatalf("Peek error %v is not ErrBadFlow", perr)
		}
		got, err := s.Open(name, value, state, provider)
		if err != nil {
			if !errors.Is(err, ErrBadFlow) {
				t.Fatalf("Open error %v is not ErrBadFlow", err)
			}
			return
		}
		if perr != nil {
			t.Fatal("Open accepted what Peek refused")
		}
		if got.State != state || got.Provider != provider {
			t.Fatalf("Open(state %q, provider %q) returned a flow for %q, %q", state, provider, got.State, got.Provider)
		}
		if age := fuzzNow().Sub(got.Created); age > FlowMaxAge || age < -time.Minute {
			t.Fatalf("Open accepted a flow aged %s", age)
		}
		if !got.Created.Equal(peeked.Created) || got.Verifier != peeked.Verifier {
			t.Fatal("Open and Peek disagree")
		}
		if _, err := s.Open(name+"x", value, state, provider); err == nil {
			t.Fatal("a flow opened under another cookie name")
		}
	})
}

// FuzzFlowSeal seals arbitrary flows: Seal then Open must give the flow
// back, under that cookie name only, and Open must enforce FlowMaxAge.
func FuzzFlowSeal(f *testing.F) {
	s := fuzzSealer(f)
	f.Add("cognito", strings.Repeat("S", 43), strings.Repeat("V", 43), strings.Repeat("N", 43), "https://app.example.com/a?b=1&c=<2>", int64(0))
	f.Add("", "", "", "", "", int64(-901))
	f.Fuzz(func(t *testing.T, provider, state, verifier, nonce, cb string, ageSec int64) {
		name := Names(FlavorV4, true).FlowPrefix + "." + FlowKey(state)
		ageSec %= 3 * int64(FlowMaxAge/time.Second)
		fl := Flow{Provider: provider, State: state, Verifier: verifier, Nonce: nonce, CallbackURL: cb,
			Created: fuzzNow().Add(-time.Duration(ageSec) * time.Second)}
		v, err := s.Seal(name, fl)
		if errors.Is(err, ErrCookieTooLarge) {
			return
		}
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if !FitsCookie(name, v) {
			t.Fatal("Seal returned a value that does not fit the cookie")
		}
		got, err := s.Peek(name, v)
		if err != nil {
			t.Fatalf("Peek of a fresh seal: %v", err)
		}
		// JSON replaces invalid UTF-8, so only valid strings come back as given
		// (real flows hold ASCII only).
		utf := true
		for _, s := range []string{provider, state, verifier, nonce, cb} {
			utf = utf && utf8.ValidString(s)
		}
		if utf && (got.Provider != provider || got.State != state || got.Verifier != verifier ||
			got.Nonce != nonce || got.CallbackURL != cb || !got.Created.Equal(fl.Created)) {
			t.Fatalf("round trip: got %+v, want %+v", got, fl)
		}
		age := time.Duration(ageSec) * time.Second
		_, err = s.Open(name, v, got.State, got.Provider)
		if fresh := age <= FlowMaxAge && age >= -time.Minute; fresh != (err == nil) {
			t.Fatalf("Open of a flow aged %s: %v", age, err)
		}
		if _, err := s.Open(name+".", v, got.State, got.Provider); err == nil {
			t.Fatal("a flow opened under another cookie name")
		}
		if _, err := s.Open(name, v, got.State+"x", got.Provider); err == nil {
			t.Fatal("a flow opened for another state")
		}
	})
}

// FuzzCSRF feeds arbitrary CSRF cookie values and submitted tokens:
// FromCookie accepts only a value whose hash verifies, and Valid only the
// cookie's own token.
func FuzzCSRF(f *testing.F) {
	cur, old := fuzzSecret(), []byte(strings.Repeat("o", 32))
	c := NewCSRF([][]byte{cur, old})
	tok := strings.Repeat("ab", 32)
	f.Add(tok+"|"+c.hash(tok, cur), tok)
	f.Add(tok+"|"+c.hash(tok, old), tok)
	f.Add(tok+"|"+c.hash(tok, cur), "")
	f.Add(tok+"|"+strings.Repeat("0", 64), tok)
	f.Add("|", "")
	f.Fuzz(func(t *testing.T, cookie, submitted string) {
		token, ok := c.FromCookie(cookie)
		if ok {
			if len(token) != 64 || (cookie != token+"|"+c.hash(token, cur) && cookie != token+"|"+c.hash(token, old)) {
				t.Fatalf("FromCookie accepted %q", cookie)
			}
		} else if token != "" {
			t.Fatal("a refused cookie returned a token")
		}
		if c.Valid(cookie, submitted) != (ok && submitted != "" && submitted == token) {
			t.Fatalf("Valid(%q, %q) disagrees with FromCookie", cookie, submitted)
		}
	})
}

// FuzzSafeCallbackURL checks the callbackUrl policy on arbitrary input: the
// result is origin or origin + "/..." (never "//"), parses back to origin's
// scheme and host, holds no byte a browser would reinterpret, fits
// MaxCallbackURLLen, and is a fixed point of the policy.
func FuzzSafeCallbackURL(f *testing.F) {
	for _, s := range []string{
		"/protected?x=1#y", "http://localhost:3000/a", "HTTPS://APP.example.com:443?x", "//evil.com",
		"/%2F/evil.com", "/%255C%255Cevil.com", "http://localhost:3000@evil.com/", "/café\"<>`",
		"https://[::1]:8443/x", "http://\u212aey.example/", "/\t/x", "javascript:alert(1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, origin := range []string{"http://localhost:3000", "https://app.example.com", "https://[::1]:8443"} {
			res, ok := SafeCallbackURL(raw, origin)
			if !ok && res != origin {
				t.Fatalf("refused %q but returned %q", raw, res)
			}
			if res != origin && !strings.HasPrefix(res, origin+"/") {
				t.Fatalf("SafeCallbackURL(%q, %q) = %q: not on the origin", raw, origin, res)
			}
			if res != origin && len(res) > MaxCallbackURLLen {
				t.Fatalf("SafeCallbackURL(%q) = %d bytes", raw, len(res))
			}
			rest := res[len(origin):]
			if strings.HasPrefix(rest, "//") || strings.HasPrefix(decodeRepeated(rest), "//") {
				t.Fatalf("SafeCallbackURL(%q) = %q: protocol-relative path", raw, res)
			}
			for i := 0; i < len(rest); i++ {
				if c := rest[i]; c <= 0x20 || c >= 0x7f || c == '\\' || unsafeURLByte(c) {
					t.Fatalf("SafeCallbackURL(%q) = %q: byte %q", raw, res, c)
				}
			}
			u, err := url.Parse(res)
			o, _ := url.Parse(origin)
			if err != nil || u.Scheme != o.Scheme || u.Host != o.Host || u.User != nil || u.Opaque != "" {
				t.Fatalf("SafeCallbackURL(%q) = %q parses to %v (%v), not origin %q", raw, res, u, err, origin)
			}
			if again, ok := SafeCallbackURL(res, origin); again != res || !ok {
				t.Fatalf("not a fixed point: SafeCallbackURL(%q) = %q, %v", res, again, ok)
			}
		}
	})
}
