package bff

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/authbff/authbff/internal/nextauth"
)

// This file is the ONE place where an error becomes an HTTP answer. The core
// (internal/nextauth) says what went wrong with a code of its vocabulary
// (nextauth.Code); answers says how each code is answered. No other file of
// package bff writes an error status or an error body (errors_test.go
// checks the sources).

// answer is how a code is answered.
type answer struct {
	// status is the status of the JSON answer {"error","message"} (and of
	// the retry page of a navigation during an outage). A 503 also carries
	// Retry-After.
	status int
	// page is the status of the error page showing a contract code
	// (<base>/error?error=Code); 0 for 200.
	page int
	// challenge adds WWW-Authenticate: Bearer error="<code>" with the
	// error's Details as parameters (RFC 6750 3, RFC 9470 3).
	challenge bool
}

// answers is THE table: every code of nextauth's vocabulary (Codes) and its
// answer. Navigations are sent to the error's URL (NextAuth's error page)
// whatever the status; only an outage answers a navigation with a page.
var answers = map[nextauth.Code]answer{
	// The NextAuth contract's codes. They reach the browser as a redirect
	// to the error page (or {"url"}); the statuses of that page are the
	// contract's: Configuration 500, AccessDenied and Verification 403,
	// every other code 200.
	nextauth.CodeConfiguration:   {status: http.StatusInternalServerError, page: http.StatusInternalServerError},
	nextauth.CodeAccessDenied:    {status: http.StatusForbidden, page: http.StatusForbidden},
	nextauth.CodeVerification:    {status: http.StatusForbidden, page: http.StatusForbidden},
	nextauth.CodeOAuthSignin:     {status: http.StatusBadGateway},
	nextauth.CodeOAuthCallback:   {status: http.StatusBadRequest},
	nextauth.CodeCallback:        {status: http.StatusBadRequest},
	nextauth.CodeSessionRequired: {status: http.StatusUnauthorized},
	nextauth.CodeDefault:         {status: http.StatusBadRequest},
	nextauth.CodeMissingCSRF:     {status: http.StatusForbidden},

	// The JSON answers.
	nextauth.CodeUnauthenticated:     {status: http.StatusUnauthorized},
	nextauth.CodeStoreUnavailable:    {status: http.StatusServiceUnavailable},
	nextauth.CodeKeysUnavailable:     {status: http.StatusServiceUnavailable},
	nextauth.CodeCSRFHeaderMissing:   {status: http.StatusUnauthorized},
	nextauth.CodeCrossOrigin:         {status: http.StatusForbidden},
	nextauth.CodeBadRequest:          {status: http.StatusBadRequest},
	nextauth.CodeInvalidRequest:      {status: http.StatusBadRequest},
	nextauth.CodeNotFound:            {status: http.StatusNotFound},
	nextauth.CodeNoAccessToken:       {status: http.StatusUnauthorized},
	nextauth.CodeAccessTokenExpired:  {status: http.StatusUnauthorized},
	nextauth.CodeInternal:            {status: http.StatusInternalServerError},
	nextauth.CodeUnauthorized:        {status: http.StatusUnauthorized},
	nextauth.CodeMethodNotAllowed:    {status: http.StatusMethodNotAllowed},
	nextauth.CodeUnknownUpstream:     {status: http.StatusNotFound},
	nextauth.CodeBadPath:             {status: http.StatusBadRequest},
	nextauth.CodeBodyTooLarge:        {status: http.StatusRequestEntityTooLarge},
	nextauth.CodeUpstreamTimeout:     {status: http.StatusGatewayTimeout},
	nextauth.CodeUpstreamUnreachable: {status: http.StatusBadGateway},
	nextauth.CodeClientGone:          {status: http.StatusBadGateway},
	nextauth.CodeDevIdPLoopback:      {status: http.StatusForbidden},
	nextauth.CodeDevIdPWrongHost:     {status: http.StatusForbidden},
	nextauth.CodeDraining:            {status: http.StatusServiceUnavailable},
	nextauth.CodeForbidden:           {status: http.StatusForbidden},

	nextauth.CodeWrongProvider:        {status: http.StatusUnauthorized},
	nextauth.CodeUpstreamTokenRefused: {status: http.StatusForbidden},
	// Step-up (RFC 9470): the body and the challenge name acr_values and
	// max_age.
	nextauth.CodeInsufficientUserAuthentication: {status: http.StatusUnauthorized, challenge: true},
}

// statusOf is the status of code's JSON answer; a code missing from
// answers (a bug the tests catch) is a 500.
func statusOf(code nextauth.Code) int {
	if a, ok := answers[code]; ok {
		return a.status
	}
	return http.StatusInternalServerError
}

// errorPageStatus is the status of the error page showing code (any code
// the query names: unknown ones are 200).
func errorPageStatus(code string) int {
	if a := answers[nextauth.Code(code)]; code != "" && nextauth.Code(code).IsContract() && a.page != 0 {
		return a.page
	}
	return http.StatusOK
}

// asError is err as the core's *nextauth.Error; a store outage without one
// (an error wrapping ErrUnavailable) is session_store_unavailable; anything
// else is an internal error (ok false: log it).
func asError(err error) (e *nextauth.Error, ok bool) {
	if errors.As(err, &e) {
		return e, true
	}
	if errors.Is(err, ErrUnavailable) {
		e = nextauth.NewError(nextauth.CodeStoreUnavailable, "")
		e.Err = err
		return e, true
	}
	e = nextauth.NewError(nextauth.CodeInternal, "")
	e.Err = err
	return e, false
}

// writeError answers err:
//   - a session the IdP ended (nextauth.SessionEnded) also clears the
//     session cookie;
//   - an outage (503: the store or the IdP's keys unreachable) carries
//     Retry-After, never touches the session cookie, and answers a
//     navigation with an HTML page and a retry link;
//   - an error with a URL (error page, CSRF failure URL) is a 302 there for
//     navigations and {"url"} in JSON mode;
//   - anything else is JSON {"error","message"} with its code's status.
//
// Errors that are not *nextauth.Error are internal: 500, logged.
func (b *BFF) writeError(w http.ResponseWriter, r *http.Request, mode answerMode, err error) {
	e, ok := asError(err)
	if !ok {
		b.reqLog(w, r).Error("internal error", "err", err)
	}
	if _, known := answers[e.Code]; !known {
		b.reqLog(w, r).Error("internal error: an error code without an answer", "error", string(e.Code), "err", err)
		e = nextauth.NewError(nextauth.CodeInternal, "")
	}
	if nextauth.SessionEnded(err) {
		b.clearSessionCookie(w, r)
	}
	if b.tracer != nil {
		spanError(r.Context(), string(e.Code))
	}
	noteCode(w, e.Code)
	status := statusOf(e.Code)
	if e.Unavailable() {
		b.reqLog(w, r).Error("temporarily unavailable", "error", string(e.Code), "err", e.Err)
		if mode == navigation {
			retry := b.core.Origin() + "/"
			if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, b.cfg.BasePath+"/callback/") {
				retry = b.core.Origin() + r.URL.RequestURI()
			}
			w.Header().Set("Retry-After", "5")
			b.renderPage(w, r, status, "error", b.core.UnavailablePage(retry))
			return
		}
	} else if e.URL != "" {
		switch mode {
		case jsonURL:
			writeURL(w, e.URL)
			return
		case navigation:
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, e.URL, http.StatusFound)
			return
		}
	}
	if len(e.Details) > 0 || answers[e.Code].challenge {
		writeDetailedError(w, e)
		return
	}
	writeJSONError(w, e.Code, e.Message)
}

// writeDetailedError answers e with its Details beside "error" and
// "message" (which they never replace) and, when its code's row says so,
// the WWW-Authenticate challenge carrying them.
func writeDetailedError(w http.ResponseWriter, e *nextauth.Error) {
	body := map[string]any{}
	keys := make([]string, 0, len(e.Details))
	for k, v := range e.Details {
		body[k] = v
		keys = append(keys, k)
	}
	body["error"], body["message"] = string(e.Code), e.Message
	if answers[e.Code].challenge {
		sort.Strings(keys)
		h := `Bearer error="` + string(e.Code) + `"`
		for _, k := range keys {
			switch v := e.Details[k].(type) {
			case string:
				h += ", " + k + "=" + strconv.Quote(v)
			default:
				h += fmt.Sprintf(", %s=%v", k, v)
			}
		}
		w.Header().Set("WWW-Authenticate", h)
	}
	writeErrorBody(w, e.Code, body, true)
}

// refuse answers a fetch with code and message ("" for the code's default).
func (b *BFF) refuse(w http.ResponseWriter, r *http.Request, code nextauth.Code, message string) {
	b.writeError(w, r, fetch, nextauth.NewError(code, message))
}

// writeCode answers code with its default message (where no *BFF is at
// hand).
func writeCode(w http.ResponseWriter, code nextauth.Code) {
	noteCode(w, code)
	writeJSONError(w, code, code.Message())
}

// writeJSONError writes the ONE error shape for fetches, {"error","message"},
// with code's status.
func writeJSONError(w http.ResponseWriter, code nextauth.Code, message string) {
	writeErrorBody(w, code, map[string]string{"error": string(code), "message": message}, true)
}

// writeErrorBody answers code's status with a body whose shape a route's own
// contract fixes instead of {"error","message"} (the admin revoke answer,
// /readyz); noStore adds Cache-Control: no-store.
func writeErrorBody(w http.ResponseWriter, code nextauth.Code, v any, noStore bool) {
	status := statusOf(code)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, v, noStore)
}

// writeRawErrorBody is writeErrorBody with an encoded body (the flavour's
// empty session of a refused POST /session).
func writeRawErrorBody(w http.ResponseWriter, code nextauth.Code, body []byte) {
	writeRawJSON(w, statusOf(code), body)
}

// requestError is what Options.ErrorHandler gets for a refusal of Require:
// the answer writeError would give, as a *RequestError.
func requestError(err error) *RequestError {
	e, _ := asError(err)
	re := &RequestError{Status: statusOf(e.Code), Code: string(e.Code), Message: e.Message, err: err}
	if e.Unavailable() {
		re.err = errors.Join(ErrUnavailable, err)
	}
	return re
}

// noteCode keeps the code answered for the request's server span.
func noteCode(w http.ResponseWriter, code nextauth.Code) {
	if sw, ok := w.(*statusWriter); ok {
		sw.code = string(code)
	}
}
