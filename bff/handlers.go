package bff

import (
	"io"
	"net/http"

	"github.com/authbff/authbff/internal/nextauth"
)

func (b *BFF) handleSignin(w http.ResponseWriter, r *http.Request, provider string) {
	r, end := b.span(r, "signin")
	defer end()
	body, err := readBody(w, r)
	mode := formMode(r, body) // a nil body (unreadable) still honours the header
	req := b.request(w, r)
	if err := b.core.CheckForm(req, "signin", body, err); err != nil {
		b.writeError(w, r, mode, err)
		return
	}
	to, err := b.core.StartSignIn(r.Context(), req, provider, body)
	if err != nil {
		b.writeError(w, r, mode, err)
		return
	}
	redirect(w, r, mode, to)
}

func (b *BFF) handleCallback(w http.ResponseWriter, r *http.Request, provider string) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := readBody(w, r)
		if err != nil {
			b.writeError(w, r, navigation, b.core.CallbackBodyError(err))
			return
		}
		params = body
	}
	req := b.request(w, r)
	if b.resubmitFormPost(w, r, req, provider, params) {
		return
	}
	r, end := b.span(r, "callback")
	defer end()
	to, err := b.core.Callback(r.Context(), req, provider, params)
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		b.writeError(w, r, navigation, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (b *BFF) handleSignout(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	mode := formMode(r, body)
	req := b.request(w, r)
	if err := b.core.CheckForm(req, "signout", body, err); err != nil {
		b.writeError(w, r, mode, err)
		return
	}
	to, err := b.core.SignOut(r.Context(), req, body)
	if err != nil {
		b.writeError(w, r, mode, err)
		return
	}
	redirect(w, r, mode, to)
}

func (b *BFF) handleSessionUpdate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	req := b.request(w, r)
	if !b.core.CheckUpdate(req, body, err) {
		noCache(w)
		writeRawErrorBody(w, nextauth.CodeBadRequest, b.core.EmptySession())
		return
	}
	// update() may send "data": only the keys of SessionUpdatable are
	// stored; identity fields always come from the stored session.
	if err := b.core.UpdateData(r.Context(), req, body.Get("data")); err != nil {
		noCache(w)
		b.writeError(w, r, fetch, err)
		return
	}
	b.respondSession(w, r, true)
}

// respondSession answers GET/POST /session: the session JSON, {} / null
// without a session, 503 on a store fault.
func (b *BFF) respondSession(w http.ResponseWriter, r *http.Request, refresh bool) {
	noCache(w)
	js, err := b.core.Session(r.Context(), b.cookieRequest(w, r), refresh)
	if err != nil {
		b.writeError(w, r, fetch, err)
		return
	}
	if js == nil {
		js = b.core.EmptySession()
	}
	writeRawJSON(w, http.StatusOK, js)
}

func (b *BFF) handleErrorPage(w http.ResponseWriter, r *http.Request) {
	d, to := b.core.ErrorPage(r.URL.Query())
	if to != "" {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	b.renderPage(w, r, errorPageStatus(d.Error), "error", d)
}

// handleLog takes the v4 client logger's beacon: bounded, logged at debug.
func (b *BFF) handleLog(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<10))
	b.reqLog(w, r).Debug("client log", "body", string(body))
	w.WriteHeader(http.StatusOK)
}

// handleListSessions is GET /sessions: the signed-in user's live sessions.
func (b *BFF) handleListSessions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	_, s, ok := b.apiSession(w, r)
	if !ok {
		return
	}
	list, err := b.core.ListSessions(r.Context(), s)
	if err != nil {
		b.writeError(w, r, fetch, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list}, true)
}

// handleDeleteSession is DELETE /sessions/:id: one of the user's own sessions.
func (b *BFF) handleDeleteSession(w http.ResponseWriter, r *http.Request, id string) {
	w.Header().Set("Cache-Control", "no-store")
	_, s, ok := b.apiSession(w, r)
	if !ok {
		return
	}
	if err := b.core.EndSession(r.Context(), b.request(w, r), s, id); err != nil {
		b.writeError(w, r, fetch, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleBackchannelLogout is POST /backchannel-logout/:provider: 200 done,
// 400 {"error":"invalid_request"}, 503 when keys or store are unreachable.
func (b *BFF) handleBackchannelLogout(w http.ResponseWriter, r *http.Request, provider string) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		b.refuse(w, r, nextauth.CodeInvalidRequest, "the body must be a form with logout_token")
		return
	}
	if _, err := b.core.BackchannelLogout(r.Context(), b.request(w, r), provider, r.PostForm.Get("logout_token")); err != nil {
		b.writeError(w, r, fetch, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
