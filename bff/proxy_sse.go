package bff

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// cutOnSessionEnd makes a server-sent events stream (text/event-stream)
// end when the session that opened it ends, on any instance: the body is
// closed on the session's change notification or re-read (as for
// WebSockets, proxy_ws.go). Other responses are left as they are (one
// header read).
func cutOnSessionEnd(resp *http.Response) {
	if resp.Request == nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return
	}
	call, _ := resp.Request.Context().Value(proxyCallKey{}).(*proxyCall)
	if call == nil || call.s == nil || call.token == "" {
		return
	}
	p := call.b.proxy
	body := &cutBody{ReadCloser: resp.Body, stop: make(chan struct{})}
	changed := make(chan struct{}, 1)
	unsubscribe := call.b.core.Sessions().Subscribe(call.s.ID, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	go func() {
		defer unsubscribe()
		tick := time.NewTicker(wsCheckEvery)
		defer tick.Stop()
		for {
			select {
			case <-body.stop:
				return
			case <-changed:
			case <-tick.C:
			}
			if !p.sessionLive(call.token) {
				call.log().Info("proxy: session ended; ending its event stream", "upstream", call.name)
				body.ReadCloser.Close()
				return
			}
		}
	}()
	resp.Body = body
}

// cutBody stops the session watch when the stream is closed.
type cutBody struct {
	io.ReadCloser
	once sync.Once
	stop chan struct{}
}

func (c *cutBody) Close() error {
	c.once.Do(func() { close(c.stop) })
	return c.ReadCloser.Close()
}
