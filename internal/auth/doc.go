// Package auth holds the parts of the NextAuth contract that are plain Go and
// need no HTTP framework: cookie names, the CSRF double-submit token, the
// callbackUrl policy, the sealed per-flow state cookie, and the error codes.
package auth
