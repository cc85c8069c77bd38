package spa

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ContentSecurityPolicy is the policy sent with the embedded SPA, which
// passes it: nothing from another origin, no inline scripts or styles, API
// calls to the same origin only.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'self'; form-action 'self'; object-src 'none'"

// BuildContentSecurityPolicy is the default policy for an Options.FS build:
// ContentSecurityPolicy, but pictures from any https origin too, since an
// app usually shows the identity provider's profile picture
// (session.user.image, e.g. a Google avatar).
const BuildContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'self'; form-action 'self'; object-src 'none'"

// Cache-Control values: HTML and unhashed files are revalidated on every use
// (cheap thanks to the ETag), fingerprinted files never change.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// Options configures New. The zero value serves the embedded SPA and logs nothing.
type Options struct {
	// FS holds the SPA, index.html at its root: Embedded() (the default when
	// nil) or os.DirFS of a build output such as Vite's dist/. Every file is
	// read into memory once at New, so a rebuilt directory needs a restart.
	// Hidden files (a path element starting with '.') are never served.
	FS fs.FS
	// ContentSecurityPolicy is sent with every response; "" means
	// ContentSecurityPolicy for the embedded SPA (FS nil) and
	// BuildContentSecurityPolicy for any other FS.
	ContentSecurityPolicy string
	// Logger receives start-up and per-request debug lines; nil discards them.
	Logger *slog.Logger
}

// Handler serves the files read at New; it never opens a path from a request,
// so traversal is impossible by construction. Build it with New.
type Handler struct {
	files  map[string]*file
	index  *file
	csp    string
	logger *slog.Logger
}

// New reads every file of o.FS and returns a handler that serves them for GET
// and HEAD (other methods: 405):
//
//   - an existing file is served with its Content-Type, a strong ETag
//     (If-None-Match answers 304) and Cache-Control "no-cache", or
//     "public, max-age=31536000, immutable" when Fingerprinted (never for HTML);
//   - a path without an extension that is no file is a client-side route: it
//     serves "<path>.html", else "<path>/index.html", else "index.html";
//   - every page and file is served at ONE URL path, its route (see Route):
//     any other spelling of it ("//x", "/./x", "/y/../x", "/x/", "/x%2f",
//     "/x.html", "/index.html") gets a 301 to the route, query kept, so a
//     guard matching r.URL.Path sees every served page under its route;
//   - any other path (a missing "/x.js", anything under a hidden element
//     such as "/.env" or "/.git/config") is a plain-text 404;
//   - directories are never listed;
//   - a Cache-Control the caller set before ServeHTTP that says "private"
//     (a page served only with a session, as bff's PROTECTED_PATHS guard
//     does) keeps it: "private, no-cache", "private, max-age=31536000,
//     immutable".
//
// Every response, errors included, carries the Content-Security-Policy of o,
// X-Content-Type-Options, Referrer-Policy and X-Frame-Options. New fails when
// the FS cannot be read or has no index.html.
func New(o Options) (*Handler, error) {
	fsys, csp := o.FS, BuildContentSecurityPolicy
	if fsys == nil {
		fsys, csp = Embedded(), ContentSecurityPolicy
	}
	if o.ContentSecurityPolicy != "" {
		csp = o.ContentSecurityPolicy
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{files: map[string]*file{}, csp: csp, logger: logger}
	var total int
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		h.files[name] = newFile(name, body)
		total += len(body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spa: read files: %w", err)
	}
	h.index = h.files["index.html"]
	if h.index == nil {
		return nil, errors.New("spa: no index.html at the root of the FS: point SPA_DIR at the build output (e.g. dist/)")
	}
	for _, f := range h.files {
		f.route = h.fileRoute(f)
	}
	logger.Info("spa: files loaded", "files", len(h.files), "bytes", total)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	hdr.Set("X-Frame-Options", "DENY")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: the app only answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	route, f := h.lookup(r.URL.Path)
	if f == nil {
		h.logger.DebugContext(r.Context(), "spa: not found", "path", r.URL.Path)
		http.Error(w, "404 page not found: check the link or go to the home page", http.StatusNotFound)
		return
	}
	if route != r.URL.Path {
		// Content only ever goes out under its route, so whoever decides on
		// r.URL.Path (the PROTECTED_PATHS guard) decides on what is served.
		// no-cache: the route of a file can change with the next SPA_DIR build.
		hdr.Set("Cache-Control", cacheControl(hdr, cacheRevalidate))
		loc := (&url.URL{Path: route, RawQuery: r.URL.RawQuery}).String()
		http.Redirect(w, r, loc, http.StatusMovedPermanently)
		return
	}
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("ETag", f.etag)
	if f.immutable {
		hdr.Set("Cache-Control", cacheControl(hdr, cacheImmutable))
	} else {
		hdr.Set("Cache-Control", cacheControl(hdr, cacheRevalidate))
	}
	// ServeContent answers If-None-Match (304), HEAD and Range requests.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// cacheControl is the Cache-Control for value, kept private when the
// caller marked the answer private (shared caches must not keep a page
// served only to a signed-in user).
func cacheControl(hdr http.Header, value string) string {
	for _, d := range strings.Split(hdr.Get("Cache-Control"), ",") {
		if strings.EqualFold(strings.TrimSpace(d), "private") {
			return "private, " + strings.TrimPrefix(value, "public, ")
		}
	}
	return value
}
