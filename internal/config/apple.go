package config

import (
	"strings"
)

// apple builds Sign in with Apple from AUTH_APPLE_*: the Services ID, the
// team and key ids and the .p8 key (its text, or a file). There is no
// secret variable: authbff mints the client secret JWT from the key.
func (l *loader) apple() (Provider, bool) {
	const v = "AUTH_APPLE_"
	if !l.anySet(v+"ID", v+"TEAM_ID", v+"KEY_ID", v+"PRIVATE_KEY", v+"PRIVATE_KEY_FILE", v+"SECRET") {
		return Provider{}, false
	}
	p := Provider{ID: "apple", Name: "Apple", Apple: true, Issuer: "https://appleid.apple.com",
		ClientID: l.env.get(v + "ID"), AppleTeamID: l.env.get(v + "TEAM_ID"), AppleKeyID: l.env.get(v + "KEY_ID"),
		Scopes: []string{"name", "email"}, AuthStyle: AuthStylePost}
	if n := l.env.get(v + "NAME"); n != "" {
		p.Name = n
	}
	if l.env.get(v+"SECRET") != "" {
		l.probs.add(v+"SECRET", "is set, but authbff mints Apple's client secret itself",
			"remove it and set "+v+"TEAM_ID, "+v+"KEY_ID and "+v+"PRIVATE_KEY_FILE (the .p8 key) instead")
	}
	need := map[string]string{
		v + "ID":      "the Services ID (Certificates, Identifiers & Profiles > Identifiers > Services IDs), e.g. com.example.web",
		v + "TEAM_ID": "the team id (Membership details)",
		v + "KEY_ID":  "the key id of the Sign in with Apple key (Keys)",
	}
	for name, what := range need {
		if l.env.get(name) == "" {
			l.probs.add(name, "is not set, but other Apple variables are", "set it to "+what)
		}
	}
	// AUTH_APPLE_PRIVATE_KEY_FILE (the .p8 file) is read by env.get like
	// every secret variable's <NAME>_FILE (secretfiles.go).
	key := l.env.get(v + "PRIVATE_KEY")
	if key == "" && !l.anySet(v+"PRIVATE_KEY", v+"PRIVATE_KEY_FILE") {
		l.probs.add(v+"PRIVATE_KEY", "is not set", "set "+v+"PRIVATE_KEY_FILE to the .p8 key file, or "+v+"PRIVATE_KEY to its text")
	}
	// A key pasted into one line of a .env file keeps its line breaks as \n.
	p.ApplePrivateKey = strings.ReplaceAll(key, `\n`, "\n")
	if iss := l.env.get(v + "ISSUER"); iss != "" {
		if _, err := parseIssuer(iss); err != nil {
			l.probs.add(v+"ISSUER", err.Error(), "unset it (Apple's issuer is https://appleid.apple.com); it exists for tests")
		}
		p.Issuer = iss
	}
	if s := l.env.get(v + "SCOPE"); s != "" {
		p.Scopes = strings.Fields(strings.ReplaceAll(s, ",", " "))
	}
	l.authParams(&p, v+"AUTHORIZATION_PARAMS")
	return p, true
}
