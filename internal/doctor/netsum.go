package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/authbff/authbff/internal/nextauth"
)

// maxWhat bounds the part of a finding that quotes an error, so no line is
// longer than a terminal can show whole.
const maxWhat = 160

// Summary is a network error told in one short phrase, with what to do.
type Summary struct {
	// What happened, e.g. "cannot resolve x.example.com: check
	// COGNITO_DOMAIN (...) and this machine's DNS".
	What string
	// Fix is what to change.
	Fix string
}

// Summarize tells err (from reaching host through setting, a phrase such as
// "COGNITO_DOMAIN (the Domain name of the user pool's app integration)")
// as one short line: DNS failures, refused connections, timeouts and TLS
// failures by name, anything else with its URLs shortened to
// scheme://host/path and cut to a bounded length.
func Summarize(err error, host, setting string) Summary {
	name := settingName(setting)
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		h := dns.Name
		if h == "" {
			h = host
		}
		return Summary{What: "cannot resolve " + h + ": check " + setting + " and this machine's DNS",
			Fix: "correct " + name + " (a typo?) or the DNS resolver"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Summary{What: host + " refused the connection",
			Fix: "check " + name + " (host and port) and that the server there is running"}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return Summary{What: "no answer from " + host + " in time",
			Fix: "check " + name + ", and that this machine may reach " + host + " (firewall, proxy: HTTPS_PROXY)"}
	case errors.As(err, &unknownCA):
		return Summary{What: "TLS with " + host + ": its certificate is signed by an unknown authority",
			Fix: "check " + name + " names the right host, or trust its CA (SSL_CERT_FILE)"}
	case errors.As(err, &hostErr), errors.As(err, &certErr):
		return Summary{What: "TLS with " + host + ": the certificate does not fit (" + Shorten(errText(err), 80) + ")",
			Fix: "check " + name + " names the host the certificate is for"}
	case errors.As(err, &recErr):
		return Summary{What: host + " does not speak TLS",
			Fix: "check the scheme of " + name + " (http:// only on localhost)"}
	}
	return Summary{What: Shorten(errText(err), maxWhat), Fix: "check " + name}
}

// settingName is the variable a setting phrase starts with.
func settingName(setting string) string {
	if i := strings.IndexByte(setting, ' '); i > 0 {
		return setting[:i]
	}
	return setting
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var urlRe = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Shorten replaces every URL in s by its scheme://host/path (no query: an
// authorize URL's parameters are noise here, and may name a client) and
// cuts s to at most n bytes, marking the cut.
func Shorten(s string, n int) string {
	s = urlRe.ReplaceAllStringFunc(s, ShortURL)
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}

// ShortURL is raw as scheme://host/path, without userinfo, query and
// fragment.
func ShortURL(raw string) string {
	trimmed := strings.TrimRight(raw, ".,;:)")
	u, err := url.Parse(trimmed)
	if err != nil || u.Host == "" || u.RawQuery == "" && u.Fragment == "" && u.User == nil {
		return raw // nothing to drop (or not a URL): as written
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath() + raw[len(trimmed):]
}

// hostOf is the host of raw ("" if none).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// SettingFor names the variable that gave the URL raw for provider pc, with
// what it is, for a finding's "check ...": Cognito's domain when raw is on
// it, else the issuer's variable.
func SettingFor(pc nextauth.Provider, raw string) string {
	h := hostOf(raw)
	if pc.Cognito {
		if pc.CognitoDomain != "" && strings.EqualFold(h, hostOf(pc.CognitoDomain)) {
			return "COGNITO_DOMAIN (the Domain name of the user pool's app integration)"
		}
		return "COGNITO_ISSUER (the user pool's issuer, https://cognito-idp.<region>.amazonaws.com/<poolId>)"
	}
	return "AUTH_" + strings.ToUpper(pc.ID) + "_ISSUER (the provider's issuer URL)"
}

// netFail turns a failed network step into a finding's message and fix.
type netFail func(where string, err error) (message, fix string)

// netFailure is a netFail for provider pc: the error summarised against
// the URL it names (else the issuer), with the setting that gave it.
func netFailure(pc nextauth.Provider, issuer, where string, err error) (string, string) {
	target := issuer
	if m := urlRe.FindString(errText(err)); m != "" {
		target = m
	} else if target == "" {
		target = pc.CognitoDomain
	}
	s := Summarize(err, hostOf(target), SettingFor(pc, target))
	return where + ": " + s.What, s.Fix
}
