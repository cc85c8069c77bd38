package oidc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Claims are the claims of a verified ID token or of a userinfo answer.
// A Claims from VerifyIDToken has passed every check listed there; one from
// UserInfo has not been checked beyond "sub is present".
type Claims struct {
	Issuer          string
	Subject         string
	Audience        []string
	AuthorizedParty string
	Expiry          time.Time
	IssuedAt        time.Time

	Name              string
	GivenName         string
	FamilyName        string
	Nickname          string
	PreferredUsername string
	Email             string
	Picture           string
	CognitoUsername   string // "cognito:username"
	SID               string
	// EmailVerified accepts a JSON bool or the string "true" (Cognito's userInfo).
	EmailVerified bool
	// Groups is "cognito:groups", else "groups".
	Groups []string

	// Raw holds every claim as decoded JSON; numbers are json.Number.
	Raw map[string]any
}

// DisplayName returns the first non-empty of name, nickname,
// preferred_username, cognito:username and "given_name family_name";
// it may be "" (the caller then falls back to the email or nothing).
func (c *Claims) DisplayName() string {
	for _, s := range []string{c.Name, c.Nickname, c.PreferredUsername, c.CognitoUsername} {
		if s != "" {
			return s
		}
	}
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

// parseClaims decodes a JSON object of claims. Type errors in the
// registered claims are errors; unknown or oddly typed profile claims are
// left in Raw only.
func parseClaims(b []byte) (*Claims, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode claims: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("decode claims: not a json object")
	}
	c := &Claims{Raw: raw}
	var err error
	str := func(name string) string {
		v, ok := raw[name]
		if !ok || err != nil {
			return ""
		}
		s, isStr := v.(string)
		if !isStr {
			err = fmt.Errorf("claim %s is not a string", name)
		}
		return s
	}
	c.Issuer = str("iss")
	c.Subject = str("sub")
	c.AuthorizedParty = str("azp")
	c.SID = str("sid")
	if err != nil {
		return nil, err
	}
	soft := func(name string) string { s, _ := raw[name].(string); return s }
	c.Name = soft("name")
	c.GivenName = soft("given_name")
	c.FamilyName = soft("family_name")
	c.Nickname = soft("nickname")
	c.PreferredUsername = soft("preferred_username")
	c.Email = soft("email")
	c.Picture = soft("picture")
	c.CognitoUsername = soft("cognito:username")

	switch v := raw["aud"].(type) {
	case nil:
	case string:
		c.Audience = []string{v}
	case []any:
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("claim aud has a non-string member")
			}
			c.Audience = append(c.Audience, s)
		}
	default:
		return nil, fmt.Errorf("claim aud is neither string nor array")
	}
	if c.Expiry, err = numericDate(raw, "exp"); err != nil {
		return nil, err
	}
	if c.IssuedAt, err = numericDate(raw, "iat"); err != nil {
		return nil, err
	}
	switch v := raw["email_verified"].(type) {
	case bool:
		c.EmailVerified = v
	case string:
		c.EmailVerified = strings.EqualFold(v, "true")
	}
	c.Groups = stringList(raw["cognito:groups"])
	if c.Groups == nil {
		c.Groups = stringList(raw["groups"])
	}
	return c, nil
}

// numericDate reads a NumericDate claim; absent gives the zero time.
func numericDate(raw map[string]any, name string) (time.Time, error) {
	v, ok := raw[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("claim %s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("claim %s is not a valid date", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// stringList accepts an array of strings or a single string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
