package config

import "strings"

// Problem is one thing wrong with the configuration: the variable (or dotenv
// file) at fault, what is wrong with it, and what the operator should do.
type Problem struct {
	// Var names the environment variable, or the dotenv file for parse errors.
	Var string
	// Message says what is wrong, phrased to follow Var ("is not set").
	Message string
	// Fix says what to do about it.
	Fix string
}

// String renders the problem as one line: "VAR: message - fix: fix".
func (p Problem) String() string {
	s := p.Var + ": " + p.Message
	if p.Fix != "" {
		s += " - fix: " + p.Fix
	}
	return s
}

// Problems is every problem Load found, in a stable order. Load returns it
// as its error (always as *Problems, and only when it is non-empty), so a
// caller can use errors.As to list the problems one by one.
type Problems []Problem

// Error renders one line per problem, joined by newlines.
func (p *Problems) Error() string {
	lines := make([]string, len(*p))
	for i, pr := range *p {
		lines[i] = pr.String()
	}
	return strings.Join(lines, "\n")
}

// add appends a problem.
func (p *Problems) add(variable, message, fix string) {
	*p = append(*p, Problem{Var: variable, Message: message, Fix: fix})
}
