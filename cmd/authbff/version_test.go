package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out, errb bytes.Buffer
		if code := run([]string{arg}, hostileEnv(t, nil).source(), &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "authbff ") || !strings.Contains(out.String(), "go1.") {
			t.Errorf("authbff %s: %d %q %q", arg, code, out.String(), errb.String())
		}
	}
}
