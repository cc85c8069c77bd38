package bff

// Fuzz target for the form/JSON body parser (readBody).

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

func newBodyRequest(body []byte, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/auth/signin/cognito", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

// FuzzReadBody feeds arbitrary bodies (repeated to go past the cap) under
// arbitrary Content-Types: readBody must not panic, must refuse a form body
// over maxFormBytes, must return no more data than it read, and must not
// allocate more than a bounded multiple of the cap whatever the body's size.
func FuzzReadBody(f *testing.F) {
	for _, s := range []struct {
		body, ct string
		repeat   uint16
	}{
		{"csrfToken=abc&callbackUrl=%2Fp&json=true", "application/x-www-form-urlencoded", 0},
		{`{"csrfToken":"abc","callbackUrl":"/p","json":true,"nested":{"a":[1,2]}}`, "application/json", 0},
		{`{"a":"`, "application/json; charset=utf-8", 0},
		{"a=1&", "", 20000},
		{"aaaa", "", 20000},
		{`{"a":"` + strings.Repeat("x", 70000) + `"}`, "application/json", 0},
		{"--B\r\nContent-Disposition: form-data; name=\"csrfToken\"\r\n\r\nabc\r\n--B--\r\n", "multipart/form-data; boundary=B", 0},
		{"x", "text/plain", 0},
	} {
		f.Add([]byte(s.body), s.ct, s.repeat)
	}
	f.Fuzz(func(t *testing.T, chunk []byte, contentType string, repeat uint16) {
		body := bytes.Repeat(chunk, 1+int(repeat))
		if len(body) > 4*maxFormBytes {
			body = body[:4*maxFormBytes]
		}
		req := newBodyRequest(body, contentType)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, err := readBody(httptest.NewRecorder(), req)
		runtime.ReadMemStats(&after)
		if req.MultipartForm != nil {
			_ = req.MultipartForm.RemoveAll() // what net/http's server does after a handler
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256*maxFormBytes { // process-wide TotalAlloc: loose, other goroutines and -race count too
			t.Fatalf("readBody of %d bytes (%q) allocated %d bytes", len(body), contentType, alloc)
		}
		if err != nil {
			if v != nil {
				t.Fatal("values returned with an error")
			}
			return
		}
		n := 0
		for k, vs := range v {
			n += len(k)
			for _, s := range vs {
				n += len(s)
			}
		}
		if n > len(body) || n > maxFormBytes {
			t.Fatalf("readBody returned %d bytes of values from a %d-byte body", n, len(body))
		}
		if ct := req.Header.Get("Content-Type"); len(body) > maxFormBytes && (ct == "" || ct == "application/x-www-form-urlencoded") {
			t.Fatalf("a %d-byte form body was accepted", len(body))
		}
	})
}
