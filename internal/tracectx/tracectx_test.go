package tracectx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/authbff/authbff/internal/tracectx"
)

const (
	validTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	validParent = "00f067aa0ba902b7"
	valid       = "00-" + validTrace + "-" + validParent + "-01"
)

var headerShape = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in     string
		ok           bool
		flags        byte
		trace, paren string
	}{
		{"valid sampled", valid, true, 0x01, validTrace, validParent},
		{"valid not sampled", "00-" + validTrace + "-" + validParent + "-00", true, 0, validTrace, validParent},
		{"surrounding whitespace", " \t" + valid + " ", true, 0x01, validTrace, validParent},
		{"future version, longer", "cc-" + validTrace + "-" + validParent + "-09-what-the-future-brings", true, 0x09, validTrace, validParent},
		{"future version, exact", "01-" + validTrace + "-" + validParent + "-01", true, 0x01, validTrace, validParent},
		{"empty", "", false, 0, "", ""},
		{"version ff", "ff-" + validTrace + "-" + validParent + "-01", false, 0, "", ""},
		{"version 00 too long", valid + "-00", false, 0, "", ""},
		{"future version, no dash after", "cc-" + validTrace + "-" + validParent + "-01x", false, 0, "", ""},
		{"too short", valid[:54], false, 0, "", ""},
		{"zero trace id", "00-" + strings.Repeat("0", 32) + "-" + validParent + "-01", false, 0, "", ""},
		{"zero parent id", "00-" + validTrace + "-" + strings.Repeat("0", 16) + "-01", false, 0, "", ""},
		{"upper-case hex", "00-" + strings.ToUpper(validTrace) + "-" + validParent + "-01", false, 0, "", ""},
		{"one upper-case digit", "00-" + validTrace[:5] + "A" + validTrace[6:] + "-" + validParent + "-01", false, 0, "", ""},
		{"one non-hex digit in the parent", "00-" + validTrace + "-" + validParent[:15] + "z-01", false, 0, "", ""},
		{"non-hex flags", "00-" + validTrace + "-" + validParent + "-0g", false, 0, "", ""},
		{"non-hex version", "0x-" + validTrace + "-" + validParent + "-01", false, 0, "", ""},
		{"wrong separator", "00_" + validTrace + "-" + validParent + "-01", false, 0, "", ""},
		{"short trace id", "00-" + validTrace[:31] + "-" + validParent + "-001", false, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tracectx.Parse(tt.in)
			if !tt.ok {
				if !errors.Is(err, tracectx.ErrInvalid) {
					t.Fatalf("Parse(%q) = %v, %v; want ErrInvalid", tt.in, p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if p.TraceID.String() != tt.trace || p.SpanID.String() != tt.paren || p.Flags != tt.flags {
				t.Errorf("Parse(%q) = %s %s %02x; want %s %s %02x", tt.in, p.TraceID, p.SpanID, p.Flags, tt.trace, tt.paren, tt.flags)
			}
		})
	}
}

func TestStartContinuesAValidTrace(t *testing.T) {
	c := tracectx.Start("00-" + validTrace + "-" + validParent + "-ff")
	if !c.Remote || c.TraceID.String() != validTrace || c.ParentID.String() != validParent {
		t.Fatalf("Start = %+v; want the incoming trace continued", c)
	}
	if !c.SpanID.IsValid() || c.SpanID == c.ParentID {
		t.Errorf("span id %s: want a new, valid id (parent %s)", c.SpanID, c.ParentID)
	}
	if c.Flags != tracectx.FlagSampled|tracectx.FlagRandom {
		t.Errorf("flags %02x: want reserved flags cleared (03)", c.Flags)
	}
	h := c.Traceparent()
	want := "00-" + validTrace + "-" + c.SpanID.String() + "-03"
	if h != want {
		t.Errorf("Traceparent() = %q; want %q", h, want)
	}
	if _, err := tracectx.Parse(h); err != nil {
		t.Errorf("own header does not parse: %v", err)
	}
}

func TestStartNewTrace(t *testing.T) {
	for _, in := range []string{"", "garbage", "00-" + strings.Repeat("0", 32) + "-" + validParent + "-01"} {
		c := tracectx.Start(in)
		if c.Remote || !c.TraceID.IsValid() || !c.SpanID.IsValid() || c.ParentID.IsValid() {
			t.Fatalf("Start(%q) = %+v; want a new local trace", in, c)
		}
		if !c.Sampled() {
			t.Errorf("Start(%q): a new trace should be sampled", in)
		}
		if h := c.Traceparent(); !headerShape.MatchString(h) || h[3:35] != c.TraceID.String() {
			t.Errorf("Traceparent() = %q", h)
		}
		if c.TraceID.String() == validTrace {
			t.Errorf("Start(%q) reused the invalid header's trace id", in)
		}
	}
	a, b := tracectx.Start(""), tracectx.Start("")
	if a.TraceID == b.TraceID || a.SpanID == b.SpanID {
		t.Errorf("two new traces share ids: %+v %+v", a, b)
	}
}

func TestFromHeaderAndInject(t *testing.T) {
	in := http.Header{}
	in.Set("Traceparent", valid)
	c := tracectx.FromHeader(in)
	if !c.Remote || c.TraceID.String() != validTrace {
		t.Fatalf("FromHeader = %+v", c)
	}
	out := http.Header{"Tracestate": {"vendor=1"}}
	c.Inject(out)
	if out.Get("Traceparent") != c.Traceparent() || out.Get("Tracestate") != "vendor=1" {
		t.Errorf("continued trace: headers %v; want traceparent set, tracestate kept", out)
	}

	in.Add("Traceparent", valid) // two headers: invalid
	c = tracectx.FromHeader(in)
	if c.Remote {
		t.Fatalf("FromHeader with two traceparent headers continued the trace")
	}
	out = http.Header{"Tracestate": {"vendor=1"}}
	c.Inject(out)
	if _, ok := out["Tracestate"]; ok || !headerShape.MatchString(out.Get("Traceparent")) {
		t.Errorf("new trace: headers %v; want tracestate dropped", out)
	}
}

func TestContext(t *testing.T) {
	if _, ok := tracectx.FromContext(context.Background()); ok {
		t.Fatal("FromContext on an empty context reported a trace")
	}
	c := tracectx.Start(valid)
	got, ok := tracectx.FromContext(tracectx.NewContext(context.Background(), c))
	if !ok || got != c {
		t.Fatalf("FromContext = %+v, %v; want %+v", got, ok, c)
	}
}

func TestStartDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = tracectx.Start(valid) }); n != 0 {
		t.Errorf("Start(valid) allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = tracectx.Start("") }); n != 0 {
		t.Errorf("Start(\"\") allocates %v times", n)
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(tracectx.LogHandler(slog.NewJSONHandler(&buf, nil)))
	c := tracectx.Start(valid)
	ctx := tracectx.NewContext(context.Background(), c)
	lines := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("bad line %q: %v", l, err)
			}
			out = append(out, m)
		}
		buf.Reset()
		return out
	}

	log.InfoContext(ctx, "with context", "k", "v")
	log.Info("without context")
	got := lines()
	if got[0]["trace_id"] != validTrace || got[0]["k"] != "v" {
		t.Errorf("line with context = %v; want trace_id %s", got[0], validTrace)
	}
	if _, ok := got[1]["trace_id"]; ok {
		t.Errorf("line without context has a trace_id: %v", got[1])
	}

	// A request logger that already carries trace_id gets no second one.
	log.With(tracectx.LogKey, c.TraceID.String(), "request_id", "r1").InfoContext(ctx, "again")
	log.InfoContext(ctx, "in record", tracectx.LogKey, "x")
	raw := buf.String()
	if n := strings.Count(raw, `"trace_id"`); n != 2 {
		t.Errorf("trace_id written %d times in %q; want once per line", n, raw)
	}
	buf.Reset()

	log.WithGroup("g").InfoContext(ctx, "grouped")
	if got := lines(); got[0]["g"].(map[string]any)["trace_id"] != validTrace {
		t.Errorf("grouped line = %v", got[0])
	}
	if !log.Handler().Enabled(ctx, slog.LevelInfo) || log.Handler().Enabled(ctx, slog.LevelDebug) {
		t.Error("Enabled does not follow the wrapped handler")
	}
}

// BenchmarkStart is the per-request cost: parse the header, make a span id.
func BenchmarkStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = tracectx.Start(valid)
	}
}

func TestTransport(t *testing.T) {
	got := make(chan http.Header, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer srv.Close()
	client := &http.Client{Transport: tracectx.Transport(nil)}

	c := tracectx.Start(valid)
	req, _ := http.NewRequestWithContext(tracectx.NewContext(t.Context(), c), http.MethodGet, srv.URL, nil)
	req.Header.Set("Traceparent", "00-"+strings.Repeat("1", 32)+"-"+strings.Repeat("2", 16)+"-01")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := <-got; h.Get("Traceparent") != c.Traceparent() {
		t.Errorf("upstream got traceparent %q; want %q", h.Get("Traceparent"), c.Traceparent())
	}
	if req.Header.Get("Traceparent") != "00-"+strings.Repeat("1", 32)+"-"+strings.Repeat("2", 16)+"-01" {
		t.Error("Transport modified the caller's request")
	}

	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := <-got; h.Get("Traceparent") != "" {
		t.Errorf("request without a trace got traceparent %q", h.Get("Traceparent"))
	}
}

var reference = regexp.MustCompile(`(?s)^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(.*)$`)

// FuzzParse checks Parse against the specification's grammar written as a
// regular expression.
func FuzzParse(f *testing.F) {
	for _, s := range []string{valid, "ff" + valid[2:], "01" + valid[2:] + "-x", valid + "x", strings.ToUpper(valid), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p, err := tracectx.Parse(v)
		m := reference.FindStringSubmatch(strings.Trim(v, " \t"))
		want := m != nil && m[1] != "ff" && m[2] != strings.Repeat("0", 32) && m[3] != strings.Repeat("0", 16) &&
			(m[5] == "" || m[1] != "00" && m[5][0] == '-')
		if (err == nil) != want {
			t.Fatalf("Parse(%q) = %v; reference says valid=%v", v, err, want)
		}
		if err == nil && (p.TraceID.String() != m[2] || p.SpanID.String() != m[3]) {
			t.Fatalf("Parse(%q) = %s %s", v, p.TraceID, p.SpanID)
		}
	})
}
