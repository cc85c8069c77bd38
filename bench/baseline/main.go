// Command baseline is the reference server for bench/run: the least work a
// Go + Gin server can do to answer GET /api/auth/session for a signed-in
// user. It reads the session cookie, looks it up in an in-memory map and
// writes a fixed session JSON with NextAuth's no-cache headers. No logging,
// no crypto, no store: authbff's read path is compared with it in the same
// run, on the same machine.
//
//	baseline -addr 127.0.0.1:8081 [-token <cookie value>]...
//	curl -X POST 'http://127.0.0.1:8081/_register?token=<cookie value>'
package main

import (
	"flag"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

const cookieName = "next-auth.session-token"

type tokens []string

func (t *tokens) String() string     { return strings.Join(*t, ",") }
func (t *tokens) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	var toks tokens
	flag.Var(&toks, "token", "a session cookie value to accept (repeatable)")
	flag.Parse()

	var (
		mu       sync.RWMutex
		sessions = map[string][]byte{}
	)
	body := func() []byte {
		exp := time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
		return []byte(`{"user":{"name":"Ada Lovelace","email":"ada@example.com","image":"https://upload.wikimedia.org/wikipedia/commons/a/a4/Ada_Lovelace_portrait.jpg"},"expires":"` + exp + `"}`)
	}
	for _, t := range toks {
		sessions[t] = body()
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/api/auth/session", func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Cache-Control", "private, no-cache, no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		var s []byte
		if ck, err := c.Request.Cookie(cookieName); err == nil {
			mu.RLock()
			s = sessions[ck.Value]
			mu.RUnlock()
		}
		if s == nil {
			s = []byte("{}")
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", s)
	})
	r.POST("/_register", func(c *gin.Context) {
		t := c.Query("token")
		if t == "" {
			c.String(http.StatusBadRequest, "token is required\n")
			return
		}
		mu.Lock()
		sessions[t] = body()
		mu.Unlock()
		c.String(http.StatusOK, "ok\n")
	})
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	log.Printf("baseline listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, r))
}
