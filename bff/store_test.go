package bff_test

import (
	"strings"
	"testing"

	"github.com/authbff/authbff/bff"
)

// TestOpenStoreHidesPasswords (issue 19 C2): a malformed SESSION_STORE is
// never echoed with its passwords.
func TestOpenStoreHidesPasswords(t *testing.T) {
	for _, spec := range []string{
		"redis://user:secretpw@host:notaport/0",
		"rediss://user:secretpw@host%zz/0",
		"redis-sentinel://user:secret%zzpw@a:26379,b:26379/mymaster",
		"redis-sentinel://user:secretpw@a:26379/mymaster?sentinel_password=secretpw2&db=x",
		"redis-cluster://user:secretpw@a:6379,b:6379?bogus=1",
		"redi://user:secretpw@host/0",
	} {
		s, err := bff.OpenStore(spec)
		if err == nil {
			s.Close()
			t.Errorf("%s: opened", spec)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("the password is in the error: %v", err)
		}
	}
	if got := bff.RedactStoreSpec("redis://u:secretpw@h:x/0"); got != "redis://u:xxxxx@h:x/0" {
		t.Errorf("RedactStoreSpec = %q", got)
	}
}
