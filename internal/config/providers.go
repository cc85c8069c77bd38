package config

import (
	"fmt"
	"strings"
)

// cognitoVars are the variables whose presence means "Cognito is wanted".
func cognitoVars() []string {
	return []string{
		"COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_ISSUER",
		"COGNITO_DOMAIN", "COGNITO_REGION", "COGNITO_USER_POOL_ID",
		"AUTH_COGNITO_ID", "AUTH_COGNITO_SECRET", "AUTH_COGNITO_ISSUER",
	}
}

const issuerFix = "set it to https://cognito-idp.<region>.amazonaws.com/<userPoolId> " +
	"(Cognito console > User pool overview > Token signing key URL, without /.well-known/jwks.json), " +
	"or set COGNITO_REGION and COGNITO_USER_POOL_ID instead, " +
	"or set COGNITO_DOMAIN to the hosted UI domain to learn the issuer from the first sign-in"

// either returns the value of whichever of two spellings of one setting is
// set, and that spelling's name (legacy when neither is). Both set to
// different values is a problem.
func (l *loader) either(legacy, v5 string) (value, name string) {
	a, b := l.env.get(legacy), l.env.get(v5)
	switch {
	case a != "" && b != "" && a != b:
		l.probs.add(v5, "conflicts with "+legacy+": both are set, to different values",
			"keep only one of "+legacy+" and "+v5)
		return a, legacy
	case a != "":
		return a, legacy
	case b != "":
		return b, v5
	}
	return "", legacy
}

// pick returns the name of the spelling to read for an optional setting,
// reporting a conflict between the two.
func (l *loader) pick(legacy, v5 string) string {
	_, name := l.either(legacy, v5)
	return name
}

// cognito builds the Cognito provider from any of its three spellings; ok
// is false when no Cognito variable is set at all.
func (l *loader) cognito() (p Provider, ok bool) {
	var present []string
	for _, k := range cognitoVars() {
		if l.env.get(k) != "" {
			present = append(present, k)
		}
	}
	if len(present) == 0 {
		return Provider{}, false
	}
	p = Provider{ID: "cognito", Name: "Cognito", Cognito: true}
	if n := l.env.get("AUTH_COGNITO_NAME"); n != "" {
		p.Name = n
	}
	p.ClientID, _ = l.either("COGNITO_CLIENT_ID", "AUTH_COGNITO_ID")
	var secretVar string
	p.ClientSecret, secretVar = l.either("COGNITO_CLIENT_SECRET", "AUTH_COGNITO_SECRET")
	issuer, issuerVar := l.either("COGNITO_ISSUER", "AUTH_COGNITO_ISSUER")
	if p.ClientID == "" {
		l.probs.add("COGNITO_CLIENT_ID", "is not set, but other Cognito variables are ("+strings.Join(present, ", ")+")",
			"set COGNITO_CLIENT_ID (or AUTH_COGNITO_ID) to the app client id from Cognito console > App clients, "+
				"or remove the Cognito variables to use the development IdP")
	}
	if d := l.env.get("COGNITO_DOMAIN"); d != "" {
		p.CognitoDomain = l.cognitoDomain(d)
	}
	region, pool := l.env.get("COGNITO_REGION"), l.env.get("COGNITO_USER_POOL_ID")
	derived := l.poolIssuer(region, pool, issuer != "")
	switch {
	case issuer != "":
		if _, err := parseIssuer(issuer); err != nil {
			l.probs.add(issuerVar, err.Error(), issuerFix)
		} else if pool != "" && !strings.HasSuffix(issuer, "/"+pool) {
			l.probs.add("COGNITO_USER_POOL_ID", fmt.Sprintf("%q does not match %s %q", pool, issuerVar, issuer),
				"remove COGNITO_USER_POOL_ID or make both name the same user pool")
		}
		p.Issuer = issuer
	case derived != "":
		p.Issuer = derived
	case pool != "" || region != "":
		// The pool/region check has already said what is wrong.
	case p.CognitoDomain != "":
		// The 2021 tutorial's configuration: the pool's issuer is learned
		// from the first ID token of the domain's token endpoint.
		p.LearnIssuer = true
	default:
		l.probs.add("COGNITO_ISSUER", "is not set", issuerFix)
	}
	l.clientOptions(&p, secretVar,
		l.pick("COGNITO_SCOPE", "AUTH_COGNITO_SCOPE"),
		l.pick("COGNITO_AUTH_STYLE", "AUTH_COGNITO_AUTH_STYLE"),
		l.pick("COGNITO_USERINFO", "AUTH_COGNITO_USERINFO"))
	return p, true
}

// cognitoDomain normalises COGNITO_DOMAIN to "https://host[:port]".
func (l *loader) cognitoDomain(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	raw = strings.TrimRight(raw, "/")
	_, err := parseIssuer(raw)
	u, _ := parseHTTPURL(raw)
	if err == nil && u.Path != "" {
		err = fmt.Errorf("%q has a path", RedactURL(raw))
	}
	if err != nil {
		l.probs.add("COGNITO_DOMAIN", err.Error(),
			"set it to the hosted UI domain only, e.g. myapp.auth.eu-west-1.amazoncognito.com or auth.example.com")
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// poolIssuer derives the issuer from COGNITO_REGION and COGNITO_USER_POOL_ID
// (the region may be taken from the pool id "<region>_<id>"). It returns ""
// when it cannot, reporting why unless haveIssuer says the issuer is set.
func (l *loader) poolIssuer(region, pool string, haveIssuer bool) string {
	if pool == "" {
		if region != "" && !haveIssuer {
			l.probs.add("COGNITO_USER_POOL_ID", "is not set, but COGNITO_REGION is",
				"set it to the user pool id, e.g. eu-west-1_AbCdEf123 (Cognito console > User pools)")
		}
		return ""
	}
	poolRegion, id, ok := strings.Cut(pool, "_")
	if !ok || !validRegion(poolRegion) || !isAlnum(id) {
		l.probs.add("COGNITO_USER_POOL_ID", fmt.Sprintf("%q is not a user pool id", pool),
			"copy it from Cognito console > User pools; it looks like eu-west-1_AbCdEf123")
		return ""
	}
	if region != "" && region != poolRegion {
		l.probs.add("COGNITO_REGION", fmt.Sprintf("%q differs from the region of COGNITO_USER_POOL_ID %q", region, pool),
			"remove COGNITO_REGION (it is read from the pool id) or correct it")
		return ""
	}
	return "https://cognito-idp." + poolRegion + ".amazonaws.com/" + pool
}

// validRegion reports whether s looks like an AWS region ("eu-west-1").
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for i, part := range parts {
		if part == "" {
			return false
		}
		last := i == len(parts)-1
		for _, r := range part {
			if last && (r < '0' || r > '9') || !last && (r < 'a' || r > 'z') {
				return false
			}
		}
	}
	return true
}

// isAlnum reports whether s is non-empty ASCII letters and digits.
func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return s != ""
}

// genericIDs returns the upper-case ids of non-empty AUTH_<ID>_ISSUER and
// AUTH_<ID>_ID variables (other than Cognito), sorted, reporting malformed
// issuer ids.
func (l *loader) genericIDs() []string {
	var ids []string
	seen := map[string]bool{}
	for _, k := range l.env.keys {
		rest, ok := strings.CutPrefix(k, "AUTH_")
		if !ok || l.env.peek(k) == "" {
			continue
		}
		id, isIssuer := strings.CutSuffix(rest, "_ISSUER")
		if !isIssuer {
			if id, ok = strings.CutSuffix(rest, "_ID"); !ok || strings.Contains(id, "_") {
				continue // an unrelated AUTH_* variable
			}
		}
		if id == "" || id == "COGNITO" || presetIDs[id] || seen[id] {
			continue
		}
		if !isAlnum(id) || strings.ToUpper(id) != id {
			l.probs.add(k, "names a provider id with characters other than A-Z and 0-9",
				"rename the provider's variables to AUTH_<ID>_ISSUER/_ID/_SECRET with letters and digits only, e.g. AUTH_MYIDP_ISSUER")
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids
}

// generic builds the OIDC provider configured by AUTH_<id>_* variables.
func (l *loader) generic(id string) Provider {
	v := func(suffix string) string { return "AUTH_" + id + suffix }
	lower := strings.ToLower(id)
	p := Provider{
		ID:           lower,
		Name:         strings.ToUpper(lower[:1]) + lower[1:],
		ClientID:     l.env.get(v("_ID")),
		ClientSecret: l.env.get(v("_SECRET")),
	}
	if n := l.env.get(v("_NAME")); n != "" {
		p.Name = n
	}
	if l.oauthType(&p, "AUTH_"+id+"_") {
		return p
	}
	if issuer := l.env.get(v("_ISSUER")); issuer == "" {
		l.probs.add(v("_ISSUER"), "is not set, but "+v("_ID")+" is",
			"set it to the provider's OIDC issuer URL (the one serving /.well-known/openid-configuration), e.g. https://accounts.google.com")
	} else {
		if _, err := parseIssuer(issuer); err != nil {
			l.probs.add(v("_ISSUER"), err.Error(),
				"set it to the provider's https:// issuer URL exactly as its discovery document states (http:// only on localhost)")
		}
		p.Issuer = issuer
	}
	if p.ClientID == "" {
		l.probs.add(v("_ID"), "is not set, but "+v("_ISSUER")+" is",
			"set it to the client id registered at the provider for "+lower)
	}
	l.clientOptions(&p, v("_SECRET"), v("_SCOPE"), v("_AUTH_STYLE"), v("_USERINFO"))
	l.clientAuth(&p, "AUTH_"+id+"_")
	l.oidcOptions(&p, v("_ID_TOKEN_ALGS"), v("_LOGOUT_ID_TOKEN_HINT"))
	l.authParams(&p, v("_AUTHORIZATION_PARAMS"))
	return p
}

// clientOptions reads scopes, token endpoint auth style and the userinfo
// switch into p, whose ClientSecret is already set.
func (l *loader) clientOptions(p *Provider, secretVar, scopeVar, styleVar, userinfoVar string) {
	p.Scopes = []string{"openid", "profile", "email"}
	if s := l.env.get(scopeVar); s != "" {
		p.Scopes = strings.Fields(strings.ReplaceAll(s, ",", " "))
		if !contains(p.Scopes, "openid") && p.Type != "oauth" {
			l.probs.add(scopeVar, fmt.Sprintf("%q lacks the openid scope", s),
				`add openid, e.g. "openid profile email"`)
		}
	}
	p.AuthStyle = AuthStyleNone
	if p.ClientSecret != "" {
		p.AuthStyle = AuthStylePost
	}
	if s := l.env.get(styleVar); s != "" {
		style := AuthStyle(strings.ToLower(s))
		switch {
		case style == AuthStylePrivateKeyJWT || style == AuthStyleSecretJWT:
			p.AuthStyle = style // checked by clientAuth (clientauth.go)
		case style != AuthStylePost && style != AuthStyleBasic && style != AuthStyleNone:
			l.probs.add(styleVar, fmt.Sprintf("%q is not a known auth style", s),
				"use client_secret_post, client_secret_basic, none, private_key_jwt or client_secret_jwt")
		case style == AuthStyleNone && p.ClientSecret != "":
			l.probs.add(styleVar, "is none, but "+secretVar+" is set",
				"remove the secret for a public client, or use client_secret_post / client_secret_basic")
		case style != AuthStyleNone && p.ClientSecret == "":
			l.probs.add(styleVar, "is "+s+", but "+secretVar+" is not set",
				"set "+secretVar+" to the app client's secret, or use none for a public client")
		default:
			p.AuthStyle = style
		}
	}
	if s := l.env.get(userinfoVar); s != "" {
		b, err := parseBool(s)
		if err != nil {
			l.probs.add(userinfoVar, err.Error(), "set it to 1 or 0")
		}
		p.UserInfo = b
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
