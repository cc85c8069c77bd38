// Package api is the Gin API server the authbff binary (cmd/authbff) runs:
// a Gin engine with the bff library mounted (bffgin.Mount), CORS for
// CORS_ORIGINS (gin-contrib/cors), the listener's connection limits, a
// separate metrics and admin listener, and a draining shutdown.
//
//	s, err := api.New(api.Options{Source: config.FromOS()})
//	if err != nil { ... }
//	defer s.Close()
//	err = s.Run(ctx) // until ctx is done, then drains
//
// Its settings are environment variables (see the README's table).
package api
