package main

import (
	"context"
	"strings"

	"github.com/authbff/authbff/bff"
)

// Hooks sets o's hooks: grace@example.com may not sign in, every session
// JSON says "plan": "pro", and each event goes to audit.
func Hooks(o *bff.Options, audit func(bff.Event)) {
	// callbacks.signIn: refuse an address (any rule on the profile or the
	// claims; never a token here).
	o.OnSignIn = func(ctx context.Context, in bff.SignInInfo) (bff.SignInResult, error) {
		if strings.EqualFold(in.User.Email, "grace@example.com") {
			return bff.SignInResult{Deny: true}, nil
		}
		return bff.SignInResult{}, nil
	}
	// callbacks.session: runs on every session read, on the cached
	// session: cheap, no I/O.
	o.OnSession = func(ctx context.Context, s bff.SessionInfo) map[string]any {
		return map[string]any{"plan": "pro"}
	}
	// events: an audit log.
	o.OnEvent = func(ctx context.Context, e bff.Event) { audit(e) }
}
