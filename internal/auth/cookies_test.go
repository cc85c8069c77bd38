package auth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNames(t *testing.T) {
	for _, f := range []Flavor{FlavorV4, FlavorV5} {
		p := "next-auth"
		if f == FlavorV5 {
			p = "authjs"
		}
		t.Run(string(f)+" https", func(t *testing.T) {
			n := Names(f, true)
			want := CookieNames{
				Session:       "__Host-" + p + ".session-token",
				CSRF:          "__Host-" + p + ".csrf-token",
				CallbackURL:   "__Host-" + p + ".callback-url",
				FlowPrefix:    "__Host-" + p + ".state",
				SignoutReturn: "__Host-" + p + ".signout-return",
				Legacy: LegacyCookieNames{
					Session:       "__Secure-" + p + ".session-token",
					CallbackURL:   "__Secure-" + p + ".callback-url",
					FlowPrefix:    "__Secure-" + p + ".state",
					SignoutReturn: "__Secure-" + p + ".signout-return",
				},
			}
			if n != want {
				t.Fatalf("Names(%s, true) = %+v\nwant %+v", f, n, want)
			}
		})
		t.Run(string(f)+" http", func(t *testing.T) {
			n := Names(f, false)
			want := CookieNames{
				Session:       p + ".session-token",
				CSRF:          p + ".csrf-token",
				CallbackURL:   p + ".callback-url",
				FlowPrefix:    p + ".state",
				SignoutReturn: p + ".signout-return",
			}
			if n != want {
				t.Fatalf("Names(%s, false) = %+v\nwant %+v", f, n, want)
			}
		})
	}
}

// TestHostCookiesAcceptedByBrowserRules checks that every https cookie is a
// valid __Host- cookie as authbff writes it (Secure, Path=/, no Domain):
// Go's cookie parser applies the prefix rules of RFC 6265bis.
func TestHostCookiesAcceptedByBrowserRules(t *testing.T) {
	n := Names(FlavorV4, true)
	for _, name := range []string{n.Session, n.CSRF, n.CallbackURL, n.FlowPrefix + "." + FlowKey("s"), n.SignoutReturn} {
		if !strings.HasPrefix(name, "__Host-") {
			t.Errorf("%s: not a __Host- name", name)
		}
		ck := &http.Cookie{Name: name, Value: "v", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
		if err := ck.Valid(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(ck.String(), "Domain") {
			t.Errorf("%s: has a Domain", name)
		}
	}
}

func TestSessionToken(t *testing.T) {
	n := Names(FlavorV4, true)
	tests := []struct {
		name       string
		jar        map[string]string
		want       string
		wantLegacy bool
	}{
		{"none", nil, "", false},
		{"new name", map[string]string{n.Session: "new"}, "new", false},
		{"legacy only", map[string]string{n.Legacy.Session: "old"}, "old", true},
		{"new wins over a planted legacy one", map[string]string{n.Session: "new", n.Legacy.Session: "planted"}, "new", false},
		{"empty new falls back", map[string]string{n.Session: "", n.Legacy.Session: "old"}, "old", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, legacy := n.SessionToken(CookieFunc(func(name string) string { return tc.jar[name] }))
			if tok != tc.want || legacy != tc.wantLegacy {
				t.Fatalf("SessionToken = %q, %v; want %q, %v", tok, legacy, tc.want, tc.wantLegacy)
			}
		})
	}
	t.Run("http has no legacy name", func(t *testing.T) {
		h := Names(FlavorV4, false)
		var asked []string
		tok, legacy := h.SessionToken(CookieFunc(func(name string) string { asked = append(asked, name); return "" }))
		if tok != "" || legacy || len(asked) != 1 {
			t.Fatalf("SessionToken = %q, %v after asking %q", tok, legacy, asked)
		}
	})
}

func TestLegacyIgnored(t *testing.T) {
	n := Names(FlavorV5, true)
	for name, want := range map[string]bool{
		n.Legacy.CallbackURL:                       true,
		n.Legacy.SignoutReturn:                     true,
		n.Legacy.FlowPrefix + "." + FlowKey("s"):   true,
		n.Legacy.Session:                           false, // migrated, not ignored
		n.Legacy.FlowPrefix:                        false,
		n.Session:                                  false,
		n.CallbackURL:                              false,
		n.FlowPrefix + "." + FlowKey("s"):          false,
		n.CSRF:                                     false,
		"__Secure-next-auth.state." + FlowKey("s"): false, // another flavour's
	} {
		if got := n.Legacy.Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
	if Names(FlavorV4, false).Legacy.Ignored("next-auth.callback-url") {
		t.Error("http names have no legacy cookies")
	}
}

func TestFitsCookie(t *testing.T) {
	// The longest attributes authbff writes, as net/http serialises them.
	const attrs = "; Path=/; Expires=Fri, 31 Dec 9999 23:59:59 GMT; Max-Age=34560000; HttpOnly; Secure; SameSite=Lax"
	const name = "__Host-next-auth.callback-url"
	room := MaxCookieBytes - len(name) - len("=") - len(attrs)
	if !FitsCookie(name, strings.Repeat("a", room)) {
		t.Fatalf("a %d-byte Set-Cookie does not fit", MaxCookieBytes)
	}
	if FitsCookie(name, strings.Repeat("a", room+1)) {
		t.Fatalf("a %d-byte Set-Cookie fits", MaxCookieBytes+1)
	}
	if FitsCookie("bad name", "v") {
		t.Fatal("an invalid name fits")
	}
}

// TestCallbackCookieWorstCase is the callback-url and signout-return cookies
// (the validated callbackUrl, query-escaped) at their largest: every byte of
// a MaxCallbackURLLen URL escaped to three.
func TestCallbackCookieWorstCase(t *testing.T) {
	const origin = "https://app.example.com"
	raw := "/?" + strings.Repeat("&", MaxCallbackURLLen-len(origin)-2)
	cb, ok := SafeCallbackURL(raw, origin)
	if !ok || len(cb) != MaxCallbackURLLen {
		t.Fatalf("worst-case callback URL refused (%d bytes)", len(cb))
	}
	v := url.QueryEscape(cb)
	if len(v) < 3*MaxCallbackURLLen-3*len("app.example.com") {
		t.Fatalf("not a worst case: %d bytes escaped", len(v))
	}
	for _, f := range []Flavor{FlavorV4, FlavorV5} {
		n := Names(f, true)
		for _, name := range []string{n.CallbackURL, n.SignoutReturn} {
			if !FitsCookie(name, v) || !FitsCookie(name, strings.Repeat("%26", MaxCallbackURLLen)) {
				t.Errorf("%s with a %d-byte value does not fit", name, len(v))
			}
			t.Logf("%s: worst Set-Cookie %d bytes", name, setCookieLen(name, strings.Repeat("%26", MaxCallbackURLLen)))
		}
	}
}

// TestFlowCookieWorstCase seals the largest flow authbff makes: the longest
// callbackUrl SafeCallbackURL accepts, made of "&" (six bytes each if the
// JSON escaped HTML), a long provider id and a nanosecond time with a zone.
func TestFlowCookieWorstCase(t *testing.T) {
	s, err := NewSealer([][]byte{[]byte(strings.Repeat("k", 32))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://app.example.com"
	cb, ok := SafeCallbackURL("/?"+strings.Repeat("&", MaxCallbackURLLen-len(origin)-2), origin)
	if !ok || len(cb) != MaxCallbackURLLen {
		t.Fatal("worst-case callback URL refused")
	}
	state := strings.Repeat("S", 43) // oidc.RandomString(32)
	f := Flow{
		Provider: strings.Repeat("p", 64), State: state, Verifier: strings.Repeat("V", 43),
		Nonce: strings.Repeat("N", 43), CallbackURL: cb,
		Created: time.Date(2026, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", -(11*3600+30*60))),
	}
	for _, fl := range []Flavor{FlavorV4, FlavorV5} {
		name := Names(fl, true).FlowPrefix + "." + FlowKey(state)
		v, err := s.Seal(name, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !FitsCookie(name, v) {
			t.Fatalf("%s: sealed flow does not fit", name)
		}
		t.Logf("%s: worst Set-Cookie %d bytes", name, setCookieLen(name, v))
	}
}

func TestSealRefusesOversizedFlow(t *testing.T) {
	s, err := NewSealer([][]byte{[]byte(strings.Repeat("k", 32))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := Names(FlavorV4, true).FlowPrefix + "." + FlowKey("st")
	f := Flow{Provider: "cognito", State: "st", CallbackURL: "https://app.example.com/" + strings.Repeat("a", 3000), Created: time.Now()}
	if _, err := s.Seal(name, f); !errors.Is(err, ErrCookieTooLarge) {
		t.Fatalf("Seal of a 3,000-byte callbackUrl: %v, want ErrCookieTooLarge", err)
	}
	f.CallbackURL = "https://app.example.com"
	if _, err := s.Seal(name, f); err != nil {
		t.Fatalf("Seal with the origin: %v", err)
	}
}

func setCookieLen(name, value string) int {
	return len((&http.Cookie{
		Name: name, Value: value, Path: "/", Expires: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		MaxAge: worstMaxAge, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}).String())
}
