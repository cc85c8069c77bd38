package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDevIdPCommandReadsDotenvFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env.local"), []byte("DEVIDP_PORT=9333\nDEVIDP_REDIRECT_URIS=http://a/cb,http://b/cb\nLOG_FORMAT=json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadDevIdPCommand(Source{Getenv: func(k string) (string, bool) {
		if k == "DEVIDP_CLIENT_SECRET" {
			return "s", true
		}
		return "", false
	}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := &DevIdPCommand{Port: 9333, ClientID: "authbff-dev", ClientSecret: "s",
		RedirectURIs: []string{"http://a/cb", "http://b/cb"}, LogLevel: "info", LogFormat: "json"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if _, err := LoadDevIdPCommand(Source{Getenv: func(k string) (string, bool) { return "x", k == "DEVIDP_PORT" }, NoFiles: true}); err == nil {
		t.Fatal("a bad DEVIDP_PORT was accepted")
	}
}
