package validate

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// redacted replaces a secret in a message.
const redacted = "xxxxx"

// RedactURL returns raw, a URL-like setting, fit for a message: the
// password of its user info and the value of every query parameter whose
// name contains "password" (Sentinel's sentinel_password) become "xxxxx".
// It does not parse raw as a URL, so a malformed one (a bad port, several
// hosts, an unescaped "/" or "@" in the password) is redacted too: the
// password is taken to run from the first ":" after the scheme to the last
// "@", which may hide more than the password but never less.
func RedactURL(raw string) string {
	s, _ := redactURL(raw)
	return s
}

// RedactError returns err with the secrets of raw (as RedactURL finds them)
// hidden in its message, for an error that may quote raw or part of it (a
// *url.Error does). It still wraps err for errors.Is and errors.As.
func RedactError(err error, raw string) error {
	if err == nil {
		return nil
	}
	clean, secrets := redactURL(raw)
	msg := strings.ReplaceAll(err.Error(), raw, clean)
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, redacted)
		if q := strconv.Quote(s); q[1:len(q)-1] != s { // as %q shows it
			msg = strings.ReplaceAll(msg, q[1:len(q)-1], redacted)
		}
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error whose message had secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactURL is RedactURL that also returns the secrets it hid (raw and
// unescaped), longest first.
func redactURL(raw string) (string, []string) {
	var secrets []string
	hide := func(s string) {
		if s == "" {
			return
		}
		secrets = append(secrets, s)
		if u, err := url.PathUnescape(s); err == nil && u != s && u != "" {
			secrets = append(secrets, u)
		}
		if u, err := url.QueryUnescape(s); err == nil && u != s && u != "" {
			secrets = append(secrets, u)
		}
	}
	out := raw
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		rest = raw
	}
	if colon, at := strings.Index(rest, ":"), strings.LastIndex(rest, "@"); colon >= 0 && colon < at {
		start := len(raw) - len(rest)
		hide(rest[colon+1 : at])
		out = raw[:start+colon+1] + redacted + raw[start+at:]
	}
	if base, query, ok := strings.Cut(out, "?"); ok {
		pairs := strings.Split(query, "&")
		for i, p := range pairs {
			k, v, ok := strings.Cut(p, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if ok && v != "" && strings.Contains(strings.ToLower(k), "password") {
				hide(v)
				pairs[i] = p[:len(p)-len(v)] + redacted
			}
		}
		out = base + "?" + strings.Join(pairs, "&")
	}
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return out, secrets
}
