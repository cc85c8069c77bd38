package api

import (
	"context"
	"time"

	"github.com/authbff/authbff/bff"
)

// checkUpstreams refuses to start when a provider's discovery says it
// cannot give an upstream's token (UPSTREAM_<NAME>_TOKEN, _RESOURCE,
// _SCOPE); an unreachable provider only logs (bff.BFF.CheckUpstreams).
func checkUpstreams(b *bff.BFF) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return b.CheckUpstreams(ctx)
}
