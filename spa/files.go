package spa

import (
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net/http"
	"path"
	"strings"
)

// file is one servable file, read and hashed once at New.
type file struct {
	name        string
	body        []byte
	etag        string // strong: a quoted hash of body
	contentType string
	immutable   bool   // fingerprinted, never HTML
	route       string // the one URL path it is served at, set by New
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	return &file{
		name:        name,
		body:        body,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		contentType: contentType(name, body),
		immutable:   !isHTML(name) && Fingerprinted(name),
	}
}

// contentType fixes the types that matter to a browser instead of trusting the
// host's mime.types, which differs between machines (e.g. .js as text/plain).
func contentType(name string, body []byte) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".ico":
		return "image/x-icon"
	case ".json", ".map":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".woff":
		return "font/woff"
	case ".woff2":
		return "font/woff2"
	case ".ttf":
		return "font/ttf"
	case ".otf":
		return "font/otf"
	case ".wasm":
		return "application/wasm"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".xml":
		return "application/xml"
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return http.DetectContentType(body)
}

func isHTML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".html" || ext == ".htm"
}

// Fingerprinted reports whether the file name carries a content hash, so the
// file can be cached forever ("immutable"). The rule, applied to the base name
// without its last extension (the "stem"):
//
//   - the stem ends in '-' or '.' followed by a hash segment, and something
//     precedes that separator ("index-3f9a1c2b.js", "app.3f9a1c2b.css",
//     "index-BmXyzA1c.js"; not "3f9a1c2b.js");
//   - the hash segment is 8 or more characters of [A-Za-z0-9_], or exactly 8
//     characters of base64url [A-Za-z0-9_-] containing an upper-case letter
//     (Rollup/Vite 5 hashes may contain '-': "index-D-Vx_3Ab.js");
//   - the segment looks random: it contains a digit, or it mixes cases with an
//     upper-case letter after its first character ("BmXyzAbc" yes, "Settings"
//     no), so ordinary words ("logo-standard.svg") are not mistaken for hashes.
//
// The rule errs towards "not fingerprinted": a missed hash costs one
// revalidation (no-cache + ETag), a false one would pin a stale file for a year.
func Fingerprinted(name string) bool {
	base := path.Base(name)
	ext := path.Ext(base)
	if ext == "" {
		return false
	}
	stem := strings.TrimSuffix(base, ext)
	for i := len(stem) - 1; i > 0; i-- {
		c := stem[i]
		if c != '-' && c != '.' {
			continue
		}
		seg := stem[i+1:]
		switch {
		case !strings.Contains(seg, "-"):
			if len(seg) >= 8 && hashChars(seg) && looksRandom(seg) {
				return true
			}
		case len(seg) == 8:
			return hashChars(seg) && hasUpper(seg) && looksRandom(seg)
		default:
			return false
		}
		if c == '.' {
			return false // '.' never occurs inside a hash
		}
	}
	return false
}

func hashChars(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func hasUpper(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0
}

func looksRandom(s string) bool {
	if strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 {
		return true
	}
	lower := strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0
	return lower && len(s) > 1 && hasUpper(s[1:])
}
