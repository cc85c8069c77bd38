package doctor

import (
	"encoding/json"
	"fmt"
	"io"
)

// MaxLine is the longest line doctor prints: long URLs and error chains
// are shortened to fit (a line a terminal shows whole).
const MaxLine = 300

// The statuses of a Line.
const (
	StatusOK   = "ok"
	StatusFail = "FAIL"
	StatusWarn = "WARN"
)

// Line is one finding of doctor.
type Line struct {
	// Status is StatusOK, StatusFail or StatusWarn.
	Status string `json:"status"`
	// Scope is what the finding is about: a provider id, "config",
	// "store" or "upstream <name>".
	Scope string `json:"scope"`
	// Message says what was found.
	Message string `json:"message"`
	// Fix says what to change; never empty on a failure.
	Fix string `json:"fix,omitempty"`
}

// Report collects doctor's findings, to print as text or JSON.
type Report struct {
	Lines []Line `json:"checks"`
}

// defaultFix is a failure's fix when its check gave none.
const defaultFix = "correct the settings it names (README, Configuration), then run `authbff doctor` again"

// Add records a finding; a failure without a fix gets a generic one.
func (r *Report) Add(ok bool, scope, message, fix string) {
	st := StatusOK
	if !ok {
		st = StatusFail
		if fix == "" {
			fix = defaultFix
		}
	}
	r.Lines = append(r.Lines, Line{Status: st, Scope: scope, Message: message, Fix: fix})
}

// Warn records a finding that is suspicious but not a failure.
func (r *Report) Warn(scope, message, fix string) {
	r.Lines = append(r.Lines, Line{Status: StatusWarn, Scope: scope, Message: message, Fix: fix})
}

// OK reports whether no finding failed.
func (r *Report) OK() bool {
	for _, l := range r.Lines {
		if l.Status == StatusFail {
			return false
		}
	}
	return true
}

// Text is l as one line of at most MaxLine bytes: "FAIL [scope] message
// - fix: fix" ("ok  " for a pass), URLs shortened to scheme://host/path.
func (l Line) Text() string {
	word := map[string]string{StatusOK: "ok  ", StatusFail: "FAIL", StatusWarn: "WARN"}[l.Status]
	head := fmt.Sprintf("%s [%s] ", word, l.Scope)
	fix := ""
	if l.Fix != "" {
		// The message keeps up to 150 characters; the fix gets the rest of
		// the line, and at least 100.
		budget := max(100, MaxLine-len(head)-min(len(l.Message), 150)-len(" - fix: "))
		fix = " - fix: " + Shorten(l.Fix, budget)
	}
	budget := max(60, MaxLine-len(head)-len(fix))
	return head + Shorten(l.Message, budget) + fix
}

// WriteText prints one Text line per finding.
func (r *Report) WriteText(w io.Writer) {
	for _, l := range r.Lines {
		fmt.Fprintln(w, l.Text())
	}
}

// WriteJSON prints the report as one JSON object: {"ok": bool, "checks":
// [{"status","scope","message","fix"}]}, URLs shortened as in the text.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		OK     bool   `json:"ok"`
		Checks []Line `json:"checks"`
	}{OK: r.OK(), Checks: []Line{}}
	for _, l := range r.Lines {
		l.Message = Shorten(l.Message, 1000)
		out.Checks = append(out.Checks, l)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
