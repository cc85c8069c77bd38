package bff_test

import (
	"io"
	"log/slog"
	"net"
	"testing"
)

// listenLoopback listens on a free loopback port.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// textLogger logs at info to w and to the test output.
func textLogger(t *testing.T, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(w, t.Output()), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// signInOP runs the v4 client's sign-in with provider id against a fake
// that signs the user in at once; it returns the callback's response.
func (b *browser) signInOP(app *testApp, id, callbackURL string) response {
	b.T.Helper()
	return b.SignIn(app.URL, id, callbackURL, "")
}
