package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Where a session's profile (name, email, picture, groups) comes from. An
// ID token proves who the user is; OpenID lets a provider keep profile
// claims out of it (and out of refreshed ID tokens) and serve them at
// userinfo instead, as panva's oidc-provider does by default.

// hasProfile reports whether c names the user: a display name or an email.
func hasProfile(c *Claims) bool {
	return c != nil && (c.DisplayName() != "" || c.Email != "")
}

// exchangeProfile completes a sign-in's claims from userinfo: always with
// Config.UserInfo (then any failure refuses the sign-in), else, best
// effort, when the ID token has neither a name nor an email and the
// provider has a userinfo endpoint (NextAuth's OIDC providers do the same).
// A userinfo "sub" other than the ID token's is refused either way.
func (p *Provider) exchangeProfile(ctx context.Context, e endpoints, c *Claims, accessToken string) error {
	if !p.cfg.UserInfo && (hasProfile(c) || e.userinfo == "") {
		return nil
	}
	ui, err := p.userInfo(ctx, e, accessToken)
	switch {
	case err == nil:
		return mergeChecked(c, ui)
	case p.cfg.UserInfo:
		return err
	}
	p.log.WarnContext(ctx, "oidc: the ID token has no name or email and userinfo failed; signing in without a profile", "err", err)
	return nil
}

// refreshProfile makes res.Claims the complete claims after a refresh:
// the new ID token's (already checked to name prev's user), else prev's
// identity; then userinfo with the new access token (with Config.UserInfo,
// or when neither the new claims nor prev hold a name or email); then, for
// what both lack, prev's profile, so that a refreshed ID token without
// profile claims wipes nothing. Groups are the exception for Cognito: its
// refreshed ID token carries every attribute, so a missing cognito:groups
// means the user left every group. prev nil with no new ID token leaves
// res.Claims nil.
//
// A userinfo failure keeps the refresh (its tokens, maybe a rotated refresh
// token, must not be lost over a profile) and logs; a userinfo "sub" that
// is not the user's is ErrInvalidIDToken.
func (p *Provider) refreshProfile(ctx context.Context, e endpoints, res *Result, prev *Claims) error {
	fresh, newIDToken := res.Claims, res.Claims != nil
	if !newIDToken {
		if prev == nil {
			return nil
		}
		fresh = &Claims{
			Issuer: prev.Issuer, Subject: prev.Subject, Audience: slices.Clone(prev.Audience),
			AuthorizedParty: prev.AuthorizedParty, Expiry: prev.Expiry, IssuedAt: prev.IssuedAt,
			SID: prev.SID, Raw: map[string]any{},
		}
	}
	if e.userinfo != "" && (p.cfg.UserInfo || !hasProfile(fresh) && !hasProfile(prev)) {
		ui, err := p.userInfo(ctx, e, res.Tokens.AccessToken)
		if err == nil {
			err = mergeChecked(fresh, ui)
		}
		if errors.Is(err, ErrInvalidIDToken) {
			return err
		}
		if err != nil {
			p.log.WarnContext(ctx, "oidc: userinfo failed after a refresh; keeping the last known profile", "err", err)
		}
	}
	if prev != nil {
		fillProfile(fresh, prev, !(p.cfg.Cognito && newIDToken))
	}
	res.Claims = fresh
	return nil
}

// mergeChecked fills c's missing profile claims from userinfo ui, whose
// "sub" must be c's.
func mergeChecked(c, ui *Claims) error {
	if ui.Subject != c.Subject {
		return fmt.Errorf("%w: userinfo sub does not match the id token's", ErrInvalidIDToken)
	}
	mergeUserInfo(c, ui)
	return nil
}

// fillProfile copies into dst the profile claims it lacks from src: the
// name fields as a whole when dst has no display name (so DisplayName
// becomes src's), the email with its verification, the picture, and, when
// groups is true, the groups.
func fillProfile(dst, src *Claims, groups bool) {
	if dst.DisplayName() == "" {
		dst.Name, dst.GivenName, dst.FamilyName = src.Name, src.GivenName, src.FamilyName
		dst.Nickname, dst.PreferredUsername, dst.CognitoUsername = src.Nickname, src.PreferredUsername, src.CognitoUsername
	}
	if dst.Email == "" {
		dst.Email, dst.EmailVerified = src.Email, src.EmailVerified
	}
	if dst.Picture == "" {
		dst.Picture = src.Picture
	}
	if groups && dst.Groups == nil {
		dst.Groups = slices.Clone(src.Groups)
	}
}

// noteSignIn logs, once per Provider, what makes sessions of this provider
// poorer than they should be: no profile at all, or no refresh token.
func (p *Provider) noteSignIn(ctx context.Context, res *Result) {
	if !hasProfile(res.Claims) && p.warnedNoProfile.CompareAndSwap(false, true) {
		p.log.WarnContext(ctx, "oidc: signed in without a name or email (neither the ID token nor userinfo has one), "+
			"so session.user is empty; ask for the profile and email scopes and let the provider release those claims "+
			"(logged once)", "scopes", p.scopes)
	}
	if res.Tokens.RefreshToken != "" || !p.warnedNoRefresh.CompareAndSwap(false, true) {
		return
	}
	hint := "the provider may need the client to be allowed the refresh_token grant"
	if listed, asked, err := p.OfflineAccess(ctx); err == nil && listed && !asked {
		hint = "add offline_access to the provider's scopes (some providers, e.g. panva's oidc-provider, also need prompt=consent)"
	}
	p.log.WarnContext(ctx, "oidc: the provider issued no refresh token: sessions cannot renew their access token "+
		"and report AccessTokenExpired once it expires (logged once)", "hint", hint)
}

// OfflineAccess reports whether the provider's discovery lists the
// offline_access scope (which many providers require before they issue a
// refresh token) and whether the configured scopes ask for it. authbff
// never adds it by itself: it can mean a consent screen, a longer-lived
// "offline" session (Keycloak), or a refused sign-in when the client may
// not use it. Errors wrap ErrDiscovery.
func (p *Provider) OfflineAccess(ctx context.Context) (listed, requested bool, err error) {
	m, err := p.discover(ctx)
	if err != nil {
		return false, false, fmt.Errorf("oidc: offline access: %w", err)
	}
	return slices.Contains(m.ScopesSupported, "offline_access"), slices.Contains(p.scopes, "offline_access"), nil
}
