package telemetry

import (
	"strings"
	"testing"
)

var otelVars = []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}

func setEnv(t *testing.T, kv ...string) {
	for _, k := range otelVars {
		t.Setenv(k, "")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

func TestNoProviderWithoutAnEndpoint(t *testing.T) {
	for name, env := range map[string][]string{
		"unset":                   nil,
		"only a protocol":         {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
		"sdk disabled":            {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_SDK_DISABLED", "true"},
		"sdk disabled (any case)": {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces", "OTEL_SDK_DISABLED", "TRUE"},
	} {
		t.Run(name, func(t *testing.T) {
			setEnv(t, env...)
			tp, err := New(t.Context(), nil)
			if tp != nil || err != nil {
				t.Fatalf("New = %v, %v; want no provider", tp, err)
			}
		})
	}
}

func TestProviderWithAnEndpoint(t *testing.T) {
	for name, env := range map[string][]string{
		"http/protobuf (default)": {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"},
		"traces endpoint":         {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:1/v1/traces"},
		"grpc":                    {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
		"sdk disabled false":      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_SDK_DISABLED", "false"},
	} {
		t.Run(name, func(t *testing.T) {
			setEnv(t, env...)
			tp, err := New(t.Context(), nil)
			if tp == nil || err != nil {
				t.Fatalf("New = %v, %v; want a provider", tp, err)
			}
			_ = tp.Shutdown(t.Context()) // nothing recorded, nothing to send
		})
	}
}

func TestUnsupportedProtocol(t *testing.T) {
	setEnv(t, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
	if _, err := New(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") {
		t.Fatalf("err = %v, want one naming OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", err)
	}
}
