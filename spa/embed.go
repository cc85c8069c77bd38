// Package spa serves a single-page application: the small SPA embedded in the
// binary, or a directory such as a user's Vite dist/, with the caching, history
// fallback and security headers a same-origin SPA in front of authbff needs.
package spa

import (
	"embed"
	"io/fs"
)

// static holds the bundled SPA; it is the package's only global.
//
//go:embed static
var static embed.FS

// Embedded returns the SPA bundled into the binary, rooted at the SPA's root:
// "index.html", "protected.html" and "assets/...".
func Embedded() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid directory name, and "static" is valid.
		panic("spa: embedded FS: " + err.Error())
	}
	return sub
}
