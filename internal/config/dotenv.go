package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dotenvFiles returns the dotenv file names Next.js reads for nodeEnv,
// highest precedence first.
func dotenvFiles(nodeEnv string) []string {
	if nodeEnv == "" {
		return []string{".env.local", ".env"}
	}
	names := []string{".env." + nodeEnv + ".local"}
	if nodeEnv != "test" {
		// Next.js skips .env.local in tests so that they are reproducible.
		names = append(names, ".env.local")
	}
	return append(names, ".env."+nodeEnv, ".env")
}

// readDotenv reads the named files in dir ("" = working directory) and merges
// them so that an earlier file wins over a later one. Missing files are
// skipped; unreadable files and malformed lines are added to probs.
func readDotenv(dir string, names []string, probs *Problems) map[string]string {
	merged := map[string]string{}
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			probs.add(path, fmt.Sprintf("cannot be read: %v", err),
				"make the file readable by authbff, or remove it")
			continue
		}
		vars, bad := parseDotenv(string(data))
		for _, e := range bad {
			probs.add(path, e.Error(),
				"write the line as KEY=value (quote values that contain # or newlines), or delete it")
		}
		for k, v := range vars {
			if _, seen := merged[k]; !seen {
				merged[k] = v
			}
		}
	}
	return merged
}

// parseDotenv parses dotenv text: KEY=VALUE lines, an optional "export "
// prefix, # comments, blank lines, single- or back-quoted literal values,
// double-quoted values with \n \r \t \" \\ escapes (quoted values may span
// lines), unquoted values trimmed and cut at a " #comment". Within one file a
// later assignment wins. It returns one error per malformed line, each
// starting with "line N:"; variables are not expanded.
func parseDotenv(data string) (map[string]string, []error) {
	vars := map[string]string{}
	var bad []error
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimLeft(lines[i], " \t")
		if strings.TrimSpace(line) == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimLeft(rest, " \t")
		}
		key, rest, ok := strings.Cut(line, "=")
		if !ok {
			bad = append(bad, fmt.Errorf("line %d: expected KEY=VALUE", n))
			continue
		}
		key = strings.TrimSpace(key)
		if !validVarName(key) {
			bad = append(bad, fmt.Errorf("line %d: %q is not a valid variable name", n, key))
			continue
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" || (rest[0] != '"' && rest[0] != '\'' && rest[0] != '`') {
			vars[key] = strings.TrimSpace(cutComment(rest))
			continue
		}
		quote := rest[0]
		body := rest[1:]
		end := closingQuote(body, quote)
		for end < 0 && i+1 < len(lines) {
			i++
			body += "\n" + lines[i]
			end = closingQuote(body, quote)
		}
		if end < 0 {
			bad = append(bad, fmt.Errorf("line %d: the quoted value of %s is never closed", n, key))
			continue
		}
		if tail := strings.TrimSpace(body[end+1:]); tail != "" && tail[0] != '#' {
			bad = append(bad, fmt.Errorf("line %d: unexpected text %q after the closing quote", n, tail))
			continue
		}
		value := body[:end]
		if quote == '"' {
			value = unescapeDouble(value)
		}
		vars[key] = value
	}
	return vars, bad
}

// validVarName reports whether s is a shell-style variable name.
func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// closingQuote returns the index of the quote closing s, or -1. Inside
// double quotes a backslash escapes the next character.
func closingQuote(s string, quote byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case quote == '"' && s[i] == '\\':
			i++
		case s[i] == quote:
			return i
		}
	}
	return -1
}

// cutComment removes a comment: a # at the start or after a blank.
func cutComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// unescapeDouble expands the escapes allowed in a double-quoted value; an
// unknown escape is kept as written.
func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
