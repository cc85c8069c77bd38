package oidc

import (
	"context"
	"encoding/json"
	"strings"
)

// githubEmail completes a GitHub profile's e-mail from /user/emails: the
// /user answer carries only the public address (null when the user keeps
// it private). The address used is the primary one if verified, else the
// first verified one; an unverified address is never used, so
// AUTH_ALLOWED_EMAIL_DOMAINS cannot be fooled by an address its "owner"
// merely typed in. A /user e-mail is marked verified when /user/emails
// lists it as verified. /user/emails failing (no user:email scope) leaves
// the /user e-mail unverified, or none.
func (p *Provider) githubEmail(ctx context.Context, accessToken string, c *Claims) error {
	var list []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	var raw json.RawMessage
	u := strings.TrimRight(p.cfg.OAuth2.GitHubAPI, "/") + "/user/emails"
	if err := p.oauth2GetJSON(ctx, u, accessToken, &raw); err == nil {
		err = json.Unmarshal(raw, &list)
		if err != nil {
			p.log.WarnContext(ctx, "github: unreadable /user/emails answer", "err", err)
		}
	} else {
		p.log.WarnContext(ctx, "github: /user/emails failed (does the app have the user:email scope?)", "err", err)
	}
	if c.Email != "" {
		c.EmailVerified = false
		for _, e := range list {
			if e.Verified && strings.EqualFold(e.Email, c.Email) {
				c.EmailVerified = true
			}
		}
		return nil
	}
	pick := -1
	for i, e := range list {
		if e.Verified && e.Email != "" && (pick < 0 || e.Primary && !list[pick].Primary) {
			pick = i
		}
	}
	if pick >= 0 {
		c.Email, c.EmailVerified = list[pick].Email, true
	}
	return nil
}

// GitHubAPIBase returns the REST API base for a GitHub Enterprise Server
// URL ("https://ghe.example.com" -> "https://ghe.example.com/api/v3"), or
// api.github.com for "".
func GitHubAPIBase(enterprise string) string {
	if enterprise == "" {
		return "https://api.github.com"
	}
	return strings.TrimRight(enterprise, "/") + "/api/v3"
}

// GitHubOAuth2 returns the OAuth2 settings of GitHub (enterprise "" for
// github.com, else the Enterprise Server's URL).
func GitHubOAuth2(enterprise string) *OAuth2 {
	web := "https://github.com"
	if enterprise != "" {
		web = strings.TrimRight(enterprise, "/")
	}
	api := GitHubAPIBase(enterprise)
	return &OAuth2{
		AuthorizationURL: web + "/login/oauth/authorize",
		TokenURL:         web + "/login/oauth/access_token",
		UserInfoURL:      api + "/user",
		GitHubAPI:        api,
		Profile:          ProfileMap{"sub": {"id"}, "name": {"name", "login"}, "email": {"email"}, "image": {"avatar_url"}},
		UserAgent:        "authbff",
	}
}
