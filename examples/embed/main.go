// Command embed is a Gin API that uses authbff as a library: the NextAuth
// routes, the API proxy and the bundled SPA mounted with bffgin.Mount, and
// its own GET /api/orders behind bffgin.Require, which calls an orders API
// (ORDERS_API, a URL) as the signed-in user with Session.AccessToken.
//
// With no variables at all it runs on :3000 against the embedded
// development IdP, like `go run ./cmd/authbff`:
//
//	go run ./examples/embed
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/bff/bffgin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := bff.OptionsFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	b, err := bff.New(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	r := gin.New()
	bffgin.Mount(r, b)
	r.GET("/api/orders", bffgin.Require(b), func(c *gin.Context) {
		s, _ := bffgin.SessionFrom(c)
		token, err := s.AccessToken(c.Request.Context())
		if err != nil {
			b.WriteError(c.Writer, c.Request, err) // 401 signed out, 503 store down
			return
		}
		orders, err := fetchOrders(c.Request.Context(), os.Getenv("ORDERS_API"), token)
		if err != nil {
			c.JSON(http.StatusBadGateway, gin.H{"error": "upstream", "message": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": s.User().Name, "email": s.User().Email, "orders": orders})
	})

	port := cmp.Or(os.Getenv("PORT"), "3000") // the port of the default URL, http://localhost:3000
	if _, err := strconv.Atoi(port); err != nil {
		log.Fatalf("PORT=%q is not a port number", port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port) // loopback: the dev IdP is for this machine only
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	// Timeouts, header size and a connection cap that idle keep-alive
	// connections cannot exhaust, as the authbff binary serves.
	lim := bff.HardenServer(srv, 0)
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	log.Printf("embed: listening on %s", b.URL())
	if err := srv.Serve(lim.Listener(ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// fetchOrders calls the orders API with the user's access token; with no
// ORDERS_API it returns a fixed demo list.
func fetchOrders(ctx context.Context, api, token string) (any, error) {
	if api == "" {
		return []string{"demo order"}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("orders API answered " + resp.Status)
	}
	var v any
	return v, json.NewDecoder(resp.Body).Decode(&v)
}
