package main

import (
	"net/url"
	"strings"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/doctor"
)

// doctorUpstreams lists the upstreams' token policies for
// doctor.CheckUpstreams.
func doctorUpstreams(o bff.Options) []doctor.Upstream {
	var out []doctor.Upstream
	for name, p := range o.UpstreamPolicies {
		params := url.Values{}
		for _, r := range p.Resource {
			params.Add("resource", r)
		}
		if p.Scope != "" {
			params.Set("scope", p.Scope)
		}
		if p.Audience != "" {
			params.Set("audience", p.Audience)
		}
		out = append(out, doctor.Upstream{Name: strings.ToLower(name), Token: string(p.Token), Provider: p.Provider, Params: params})
	}
	return out
}
