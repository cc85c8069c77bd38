package config

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// secretVars are the secret-bearing variables: each also reads <NAME>_FILE,
// the path of a file holding the value (a Docker or Kubernetes secret
// mounted as a file), with its trailing newline trimmed. A "*" matches one
// provider id (letters, digits and inner underscores, as in
// AUTH_MICROSOFT_ENTRA_ID_SECRET). A new secret variable gets _FILE by
// being listed here; nothing else changes.
var secretVars = []string{
	"NEXTAUTH_SECRET", "AUTH_SECRET", "NEXTAUTH_SECRET_PREVIOUS",
	"COGNITO_CLIENT_SECRET",
	"AUTH_*_SECRET",      // AUTH_COGNITO_SECRET and every generic provider's
	"AUTH_*_PRIVATE_KEY", // Apple's .p8 key
	"AUTH_*_CLIENT_KEY",  // private_key_jwt keys (clientauth.go)
	// A store URL may hold a password (redis://:pw@..., postgres://...).
	"SESSION_STORE",
	"DEVIDP_CLIENT_SECRET",
}

// secretFileMax bounds a secret file: a secret or a PEM key is far smaller,
// and a wrong path (a log, a disk image) must not be read whole.
const secretFileMax = 64 << 10

// IsSecretVar reports whether name is a secret-bearing variable (one that
// also reads name+"_FILE").
func IsSecretVar(name string) bool {
	for _, pat := range secretVars {
		before, after, wild := strings.Cut(pat, "*")
		if !wild {
			if name == pat {
				return true
			}
			continue
		}
		if id, ok := strings.CutPrefix(name, before); ok {
			if id, ok = strings.CutSuffix(id, after); ok && secretVarID(id) {
				return true
			}
		}
	}
	return false
}

// readSecretFiles fills e.fromFile from every <NAME>_FILE whose NAME is a
// secret variable (in the real environment or a dotenv file), reporting a
// variable set both ways, an unreadable, empty or oversized file. Each
// problem names both spellings; the secret itself is never in a message.
func (e *env) readSecretFiles(probs *Problems) {
	e.fromFile = map[string]string{}
	for _, k := range e.keys {
		name, ok := strings.CutSuffix(k, "_FILE")
		if !ok || !IsSecretVar(name) {
			continue
		}
		p := e.lookup(k)
		if p == "" {
			continue
		}
		if e.lookup(name) != "" {
			probs.add(name, "is set, and so is "+k+": both give the same secret",
				"keep only one of "+name+" and "+k+" (the file, e.g. a mounted Kubernetes or Docker secret, is the safer)")
			continue
		}
		v, err := readSecretFile(p)
		if err != nil {
			probs.add(k, err.Error(), "point "+k+" at the file holding "+name+" (a mounted secret), or set "+name+" instead")
			continue
		}
		e.fromFile[name] = v
	}
	for name := range e.fromFile {
		if !e.isSetPlain(name) {
			e.keys = append(e.keys, name)
		}
	}
}

// readSecretFile reads a secret file, trimming one trailing newline (and
// the whitespace env.get trims from every value).
func readSecretFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, secretFileMax+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, unwrapPath(err))
	}
	if len(b) > secretFileMax {
		return "", fmt.Errorf("%s is larger than %d KiB: not a secret file", p, secretFileMax>>10)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return v, nil
}

// unwrapPath drops the *PathError's repetition of the path.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// varName names the variable k's value came from: k, or k+"_FILE" when
// it was read from a file.
func (e *env) varName(k string) string {
	if _, ok := e.fromFile[k]; ok {
		return k + "_FILE"
	}
	return k
}

// secretVarID reports whether id is a provider id as it appears in a
// variable name: letters and digits, with single underscores inside.
func secretVarID(id string) bool {
	for part := range strings.SplitSeq(id, "_") {
		if !isAlnum(part) {
			return false
		}
	}
	return id != ""
}
