package bff

import (
	"io"
	"net/http"
	"time"
)

// LimitRequestRead bounds the time to read each request's body: d after the
// handler starts, a body still not read to its end fails the read and the
// connection is closed, so a client trickling a body one byte at a time
// cannot hold a connection (and a file descriptor) for long. Unlike
// http.Server.ReadTimeout it stops counting once the body is read, so a
// long streamed answer (a proxied download, server-sent events) is not cut.
// Headers are bounded by http.Server.ReadHeaderTimeout. Wrap the server's
// handler with it (the authbff binary does, with HTTP_READ_TIMEOUT).
func LimitRequestRead(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d <= 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body has been read.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
