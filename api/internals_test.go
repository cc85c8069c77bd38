package api

import (
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/nextauth"
)

// core is the contract core behind m's BFF (internal: tests only).
func core(m *Server) *nextauth.Core {
	c, _ := bffhook.Internals(m.BFF)
	return c
}

// devIdP is m's embedded development IdP, nil with a real provider.
func devIdP(m *Server) *devidp.IdP {
	_, idp := bffhook.Internals(m.BFF)
	return idp
}
