package spa

import (
	"net/http"
	"path"
	"strings"
)

// Resolve reports what ServeHTTP answers for r: ok is true when it serves a
// page or file (for a GET or HEAD), and route is that content's canonical URL
// path (decoded, compared with r.URL.Path; see Route). When route differs
// from r.URL.Path, ServeHTTP answers a 301 to route instead of the content.
// A guard deciding which pages need a session should match the route when ok
// is true, and r.URL.Path otherwise (ServeHTTP then serves nothing).
func (h *Handler) Resolve(r *http.Request) (route string, ok bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	return h.Route(r.URL.Path)
}

// Route returns the canonical URL path of what ServeHTTP serves at the
// decoded URL path p, whatever the method; ok is false when p is a 404.
// Every spelling of one page or file has the same route, and Route(route)
// returns route:
//
//   - the path is cleaned first ("//x", "/./x", "/y/../x", "/x/" are "/x");
//   - a file's route is its shortest spelling that serves that same file:
//     "index.html" is "/", "protected.html" "/protected", "docs/index.html"
//     "/docs" (unless "docs.html" exists: then "/docs/index.html"),
//     "assets/app.js" "/assets/app.js";
//   - a client-side route (a path that falls back to index.html) is the
//     cleaned path itself: "/settings/profile".
//
// Use it to bring a configured path to the form the guard will see, e.g.
// "/protected.html" and "/protected/" are "/protected".
func (h *Handler) Route(p string) (route string, ok bool) {
	route, f := h.lookup(p)
	return route, f != nil
}

// lookup maps a decoded request path to the file served and its route,
// applying the history fallback; f is nil for a 404.
func (h *Handler) lookup(urlPath string) (route string, f *file) {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	f, fallback := h.find(name)
	switch {
	case f == nil:
		return "", nil
	case fallback:
		return "/" + name, f
	default:
		return f.route, f
	}
}

// find maps a cleaned file name (no leading slash, "" for the root) to the
// file served; fallback reports a client-side route answered with index.html.
func (h *Handler) find(name string) (f *file, fallback bool) {
	if name == "" {
		return h.index, false
	}
	if strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
		return nil, false // hidden files are not served, and are no client route either
	}
	if f := h.files[name]; f != nil {
		return f, false
	}
	if path.Ext(name) != "" {
		return nil, false
	}
	if f := h.files[name+".html"]; f != nil {
		return f, false
	}
	if f := h.files[name+"/index.html"]; f != nil {
		return f, false
	}
	return h.index, true
}

// fileRoute is the shortest URL path that serves f: its name without
// "index.html" or ".html" when that still finds f, else "/" + its name.
func (h *Handler) fileRoute(f *file) string {
	var candidates []string
	if stem, ok := strings.CutSuffix(f.name, ".html"); ok {
		if stem == "index" {
			candidates = append(candidates, "")
		} else if dir, ok := strings.CutSuffix(stem, "/index"); ok {
			candidates = append(candidates, dir)
		}
		candidates = append(candidates, stem)
	}
	for _, c := range candidates {
		if got, fallback := h.find(c); got == f && !fallback {
			return "/" + c
		}
	}
	return "/" + f.name
}
