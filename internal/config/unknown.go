package config

import (
	"regexp"
	"strings"
)

// watchedPrefixes are the prefixes of authbff's own settings: a variable
// with one of them that Load never read is most likely a misspelling.
var watchedPrefixes = []string{"NEXTAUTH_", "AUTH_", "COGNITO_", "UPSTREAM_", "AUTHBFF_"}

// unknownVars returns a warning for every variable with a watched prefix
// that is set but was never read, naming the closest name Load did read
// ("did you mean NEXTAUTH_URL?"). It also adds that hint to a problem about
// the intended name (COGNITO_DOMIAN set: "COGNITO_ISSUER is not set" says
// COGNITO_DOMIAN looks like COGNITO_DOMAIN). Call it after everything is
// read.
func (l *loader) unknownVars() []Problem {
	// The v5 spellings are read only when the v4 ones are unset; setting
	// both alike is common and harmless.
	l.env.isSet("AUTH_URL")
	l.env.isSet("AUTH_SECRET")
	var known []string
	for k := range l.env.asked {
		known = append(known, k)
	}
	var out []Problem
	for _, k := range l.env.keys {
		if l.env.asked[k] || !watched(k) {
			continue
		}
		w := Problem{Var: k, Message: "is set, but authbff does not read it (a misspelling, or a setting of a provider that is not configured)",
			Fix: "remove it, or rename it to a setting of the README's configuration table"}
		if base, ok := strings.CutSuffix(k, "_FILE"); ok && l.env.asked[base] && !IsSecretVar(base) {
			w.Fix = "only secrets are read from files (<NAME>_FILE); set " + base + " itself"
			out = append(out, w)
			continue
		}
		if s := closest(k, known); s != "" {
			w.Fix = "did you mean " + s + "? rename " + k + " to " + s
			l.hintProblems(k, s)
		}
		out = append(out, w)
	}
	return out
}

func watched(k string) bool {
	for _, p := range watchedPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// hintProblems adds "(typo is set: did you mean intended?)" to every
// problem about, or pointing at, the intended variable.
func (l *loader) hintProblems(typo, intended string) {
	re := regexp.MustCompile(`\b` + regexp.QuoteMeta(intended) + `\b`)
	for i, p := range l.probs {
		if p.Var == intended || re.MatchString(p.Message) || re.MatchString(p.Fix) {
			l.probs[i].Message += " (" + typo + " is set: did you mean " + intended + "?)"
		}
	}
}

// closest returns the name in known nearest to k by edit distance (with
// transpositions), if it is near enough to be a misspelling of it.
func closest(k string, known []string) string {
	limit := min(3, max(1, len(k)/6))
	best, bestD := "", limit+1
	for _, n := range known {
		if d := editDistance(k, n); d < bestD || d == bestD && n < best {
			best, bestD = n, d
		}
	}
	if bestD > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent characters
// ("ULR" -> "URL" is one edit).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
