// Package bffhook is how authbff's own binary and its tests reach what
// package bff keeps out of its public API: the mapping of an already loaded
// environment to bff.Options, the Go validation of Options for `authbff
// doctor`, and a BFF's core and development IdP. Package bff fills the
// variables in its init; nothing else may set them. Being internal, none
// of it is visible to programs outside the module.
package bffhook

import (
	"github.com/authbff/authbff/internal/config"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/nextauth"
)

var (
	// OptionsFromConfig maps a loaded configuration to bff.Options (as
	// OptionsFromEnv does), returned as any: a bff.Options.
	OptionsFromConfig func(cfg *config.Config) (any, error)
	// Resolve validates o (a bff.Options) as bff.New does, without side
	// effects, and returns the core's settings and providers.
	Resolve func(o any) (*nextauth.Settings, []nextauth.Provider, error)
	// Internals returns b's (a *bff.BFF) core and its development IdP (nil
	// when a real provider is configured).
	Internals func(b any) (*nextauth.Core, *devidp.IdP)
)
