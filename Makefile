.PHONY: run test test-short deps vet helm-test otel-test bench fuzz

# Run the server with embedded defaults (dev IdP, bolt session store) on :3000.
run:
	go run ./cmd/authbff

# Every test: installs redis-server, Chromium and the npm fixture when missing,
# and helm (go install, cached in $(go env GOPATH)/bin) for the chart's test;
# runs the chart's and the traces' own modules too. The traces' module
# (make otel-test: a cold build of the OpenTelemetry Collector's receiver,
# minutes) runs at low priority beside the main suite, whose packages mostly
# wait. -timeout 30m: the bff package takes ~4-5 minutes with -race on 2
# cores, once ~9, close to go test's default 10 minute limit per package.
test: deps vet helm-test
	@nice -n 19 bash .ci/otel >.otel-test.log 2>&1 & otel=$$!; \
	echo "go test -race -count=1 -timeout 30m ./...  (and make otel-test beside it)"; \
	go test -race -count=1 -timeout 30m ./...; rc=$$?; \
	wait $$otel; orc=$$?; echo "make otel-test:"; cat .otel-test.log; rm -f .otel-test.log; \
	[ $$orc -eq 0 ] || echo "FAIL: make otel-test (exit $$orc)"; \
	[ $$rc -eq 0 ] && [ $$orc -eq 0 ]

# The fast lane: skips what needs redis-server, Chromium, Node or long
# waits (go test -short); no installs. Well under a minute with a warm cache.
test-short:
	go test -short -count=1 ./...

deps:
	bash .ci/deps

# The Helm chart: helm lint, helm template (defaults and ci/full-values.yaml)
# decoded strictly into k8s.io/api types, in its own module deploy/helm/test.
helm-test:
	bash .ci/helm

# OpenTelemetry traces end to end: the binary exporting to the Collector's
# OTLP receiver (run in-process), in its own module test/otel.
otel-test:
	bash .ci/otel

vet:
	go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

bench:
	bash bench/run

# Every fuzz target in the repo (found anew each run), FUZZTIME each, one at a
# time; stops at the first failing input. Not part of `test` (which runs the
# committed seeds of every target anyway).
FUZZTIME ?= 20s
fuzz:
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz
