package bff_test

import (
	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/devidp"
	"github.com/authbff/authbff/internal/nextauth"
)

// core is the contract core behind b (internal: tests only).
func core(b *bff.BFF) *nextauth.Core {
	c, _ := bffhook.Internals(b)
	return c
}

// devIdP is b's embedded development IdP, nil with a real provider.
func devIdP(b *bff.BFF) *devidp.IdP {
	_, idp := bffhook.Internals(b)
	return idp
}

// devIdPPath is where the BFF serves the development IdP.
const devIdPPath = "/_devidp"
