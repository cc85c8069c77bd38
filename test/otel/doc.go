// Package oteltest checks authbff's OpenTelemetry traces end to end: it
// builds the authbff binary, starts the OpenTelemetry Collector's own OTLP
// receiver in-process (go.opentelemetry.io/collector/receiver/otlpreceiver,
// HTTP and gRPC), runs the binary with OTEL_EXPORTER_OTLP_ENDPOINT pointing
// at it, signs in through the development IdP and makes a proxied call over
// real HTTP, stops the binary (the spans are flushed at exit) and checks
// what the receiver got. It is a module of its own so the product's go.mod
// does not carry the Collector.
//
//	cd test/otel && go test ./...   (or: make otel-test)
package oteltest
