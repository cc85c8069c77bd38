package bff

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

const maxFormBytes = 64 << 10

// readBody parses a form-urlencoded or JSON object body (NextAuth's client
// sends either) into url.Values; nested JSON values are kept as raw JSON.
func readBody(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&obj); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read body: invalid JSON: %w", err)
		}
		v := url.Values{}
		for k, raw := range obj {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				v.Set(k, s)
			} else {
				v.Set(k, string(raw))
			}
		}
		return v, nil
	case "application/x-www-form-urlencoded", "":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("read body: invalid form: %w", err)
		}
		return v, nil
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxFormBytes); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return r.PostForm, nil
	}
	return nil, fmt.Errorf("read body: unsupported Content-Type %q (send a form or JSON)", mt)
}

// formMode reports whether the client asked for {url} instead of a
// redirect: v4 sends json=true in the body, v5 the X-Auth-Return-Redirect
// header.
func formMode(r *http.Request, body url.Values) answerMode {
	if body.Get("json") == "true" || r.Header.Get("X-Auth-Return-Redirect") == "1" {
		return jsonURL
	}
	return navigation
}
