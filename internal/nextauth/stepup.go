package nextauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authbff/authbff/internal/auth"
	"github.com/authbff/authbff/internal/oidc"
	"github.com/authbff/authbff/internal/session"
)

// Step-up authentication (OpenID Connect Core 3.1.2.1 acr_values and
// max_age, RFC 9470). A sign-in that asks for acr_values or max_age (the
// third argument of signIn(), or a provider's default authorization
// parameters) keeps them in its sealed flow; the callback then refuses an
// ID token whose acr is not one of those asked for, or that lacks
// auth_time (or whose auth_time is older than max_age) when max_age was
// asked. The session keeps acr and auth_time; a route that requires a
// StepUp answers a session that does not meet it with
// insufficient_user_authentication, naming what to ask for.

// StepUp is what a route requires of the session's authentication.
type StepUp struct {
	// ACR lists the acceptable acr values; empty: any.
	ACR []string
	// MaxAge is the longest time since the user last authenticated; 0: any.
	MaxAge time.Duration
}

// IsZero reports whether s requires nothing.
func (s StepUp) IsZero() bool { return len(s.ACR) == 0 && s.MaxAge <= 0 }

// stepUpSkew is the clock tolerance on auth_time.
const stepUpSkew = 60 * time.Second

// stepUpFlow records the step-up a sign-in's authorization parameters ask for.
func stepUpFlow(f *auth.Flow, params url.Values) error {
	f.ACR = strings.Fields(params.Get("acr_values"))
	if v := params.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("max_age %q is not a number of seconds", v)
		}
		f.MaxAge = &n
	}
	return nil
}

// stepUpClaims are the ID token's acr and auth_time (0 when absent).
func stepUpClaims(cl *oidc.Claims) (acr string, authTime int64) {
	if cl == nil {
		return "", 0
	}
	acr, _ = cl.Raw["acr"].(string)
	switch v := cl.Raw["auth_time"].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			authTime = n
		} else if f, err := v.Float64(); err == nil {
			authTime = int64(f)
		}
	case float64:
		authTime = int64(v)
	}
	return acr, authTime
}

// checkStepUp refuses an ID token that does not answer the flow's step-up.
func checkStepUp(f auth.Flow, cl *oidc.Claims, now time.Time) error {
	acr, authTime := stepUpClaims(cl)
	if len(f.ACR) > 0 && !slices.Contains(f.ACR, acr) {
		return fmt.Errorf("acr %q is not one of those asked for (%s)", oidc.LogText(acr), strings.Join(f.ACR, " "))
	}
	if f.MaxAge != nil {
		if authTime == 0 {
			return errors.New("max_age was asked, but the ID token has no auth_time")
		}
		if age := now.Sub(time.Unix(authTime, 0)); age > time.Duration(*f.MaxAge)*time.Second+stepUpSkew {
			return fmt.Errorf("auth_time is %s old, over max_age %ds", age.Round(time.Second), *f.MaxAge)
		}
	}
	return nil
}

// StepUpError is nil when the session meets req, else the
// insufficient_user_authentication answer naming what to sign in with.
func (c *Core) StepUpError(s *session.Session, req StepUp) *Error {
	if req.IsZero() || s == nil {
		return nil
	}
	d := s.Data
	ok := len(req.ACR) == 0 || slices.Contains(req.ACR, d.ACR)
	if req.MaxAge > 0 && (d.AuthTime == 0 || c.now().Sub(time.Unix(d.AuthTime, 0)) > req.MaxAge) {
		ok = false
	}
	if ok {
		return nil
	}
	e := NewError(CodeInsufficientUserAuthentication, "")
	e.Details = map[string]any{}
	if len(req.ACR) > 0 {
		e.Details["acr_values"] = strings.Join(req.ACR, " ")
	}
	if req.MaxAge > 0 {
		e.Details["max_age"] = int64(req.MaxAge / time.Second)
	}
	return e
}
