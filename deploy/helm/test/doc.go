// Package helmtest checks the Helm chart deploy/helm/authbff without a
// cluster: helm lint, helm template with the default values and with
// ci/full-values.yaml, and every rendered manifest decoded strictly into the
// Kubernetes API types (k8s.io/api; an unknown field fails). It is a module
// of its own so the product's go.mod does not carry k8s.io/api.
//
//	cd deploy/helm/test && go test ./...   (or: make helm-test)
package helmtest
