package doctor

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// CheckUpstreams asks each upstream (UPSTREAM_<NAME> -> base URL) for its
// base URL without credentials: any HTTP answer, 401 included, means the
// proxy can reach it (its paths and authentication are the API's own).
func CheckUpstreams(ctx context.Context, r *Report, hc *http.Client, upstreams map[string]string) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	names := make([]string, 0, len(upstreams))
	for n := range upstreams {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		base := upstreams[name]
		scope, setting := "upstream "+name, "UPSTREAM_"+strings.ToUpper(name)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
		if err != nil {
			r.Add(false, scope, err.Error(), "set "+setting+" to the API's absolute base URL")
			continue
		}
		resp, err := c.Do(req)
		if err != nil {
			s := Summarize(err, hostOf(base), setting+" (the API's base URL)")
			r.Add(false, scope, ShortURL(base)+" unreachable: "+s.What, s.Fix)
			continue
		}
		resp.Body.Close()
		r.Add(true, scope, ShortURL(base)+" answers (HTTP "+resp.Status+")", "")
	}
}
