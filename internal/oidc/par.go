package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Pushed authorization requests (RFC 9126): the authorization parameters
// (redirect_uri, scope, state, nonce, the PKCE challenge, signIn()'s
// extras) go to the provider's pushed_authorization_request_endpoint
// server-to-server with the client's authentication; the browser is sent
// to the authorization endpoint with only client_id and the request_uri
// the provider returned, so nothing of the request can be read or altered
// on the way.

// PARMode says when AuthCodeURL pushes the request.
type PARMode string

// The PAR modes.
const (
	// PARAuto ("" too) pushes when discovery lists a PAR endpoint.
	PARAuto PARMode = "auto"
	// PARAlways pushes, and fails when the provider offers no endpoint.
	PARAlways PARMode = "always"
	// PARNever never pushes; a provider requiring PAR then refuses sign-in
	// (New accepts it; AuthCodeURL says so).
	PARNever PARMode = "never"
)

// usePAR reports whether this sign-in pushes its request.
func (p *Provider) usePAR(ctx context.Context) (bool, error) {
	if p.isOAuth2() || p.issuer() == "" {
		return p.cfg.PAR == PARAlways, checkNoPAR(p.cfg.PAR, "")
	}
	m, err := p.discover(ctx)
	if err != nil {
		return false, err
	}
	switch p.cfg.PAR {
	case PARNever:
		if m.RequirePAR {
			return false, fmt.Errorf("%w: the provider requires pushed authorization requests (require_pushed_authorization_requests), but PAR is never", ErrNotSupported)
		}
		return false, nil
	case PARAlways:
		return true, checkNoPAR(p.cfg.PAR, m.PAREndpoint)
	}
	return m.PAREndpoint != "", nil
}

func checkNoPAR(mode PARMode, endpoint string) error {
	if mode == PARAlways && endpoint == "" {
		return fmt.Errorf("%w: PAR is always, but discovery lists no pushed_authorization_request_endpoint", ErrNotSupported)
	}
	return nil
}

// UsesPAR reports whether sign-ins push their request (discovery is fetched).
func (p *Provider) UsesPAR(ctx context.Context) (bool, error) { return p.usePAR(ctx) }

// pushAuthRequest posts q to the PAR endpoint and returns the authorize
// URL carrying only client_id and request_uri.
func (p *Provider) pushAuthRequest(ctx context.Context, authorize *url.URL, q url.Values) (string, error) {
	m, err := p.discover(ctx)
	if err != nil {
		return "", fmt.Errorf("oidc: par: %w", err)
	}
	if err := checkEndpointURL(m.PAREndpoint); err != nil {
		return "", fmt.Errorf("oidc: par: %w: pushed_authorization_request_endpoint: %w", ErrDiscovery, err)
	}
	form := url.Values{}
	for k, vs := range q {
		form[k] = vs
	}
	user, pass, basic, err := p.authenticateForm(form, m.PAREndpoint)
	if err != nil {
		return "", fmt.Errorf("oidc: par: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.PAREndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("oidc: par: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(user, pass)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("oidc: par: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		RequestURI  string `json:"request_uri"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	decErr := json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK || decErr != nil || ct != "application/json" || out.RequestURI == "" {
		pe := &Error{Endpoint: EndpointPAR, Code: "invalid_response", Status: resp.StatusCode}
		if out.Error != "" {
			pe.Code, pe.Description = LogText(out.Error), LogText(out.Description)
		}
		p.log.WarnContext(ctx, "oidc: pushed authorization request failed", "error", pe.Code, "error_description", pe.Description, "status", pe.Status)
		return "", fmt.Errorf("oidc: par: %w", pe)
	}
	nq := authorize.Query()
	for k := range q {
		nq.Del(k)
	}
	nq.Set("client_id", p.cfg.ClientID)
	nq.Set("request_uri", out.RequestURI)
	u := *authorize
	u.RawQuery = nq.Encode()
	return u.String(), nil
}

// PAREndpoint is discovery's pushed_authorization_request_endpoint ("" none)
// and whether the provider requires pushed requests.
func (p *Provider) PAREndpoint(ctx context.Context) (endpoint string, required bool, err error) {
	if p.isOAuth2() || p.issuer() == "" {
		return "", false, nil
	}
	m, err := p.discover(ctx)
	if err != nil {
		return "", false, err
	}
	return m.PAREndpoint, m.RequirePAR, nil
}
