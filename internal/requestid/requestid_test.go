package requestid

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLogHandler(t *testing.T) {
	withID := With(context.Background(), "abc-123")
	tests := []struct {
		name   string
		ctx    context.Context
		wrap   func(slog.Handler) slog.Handler
		wantID string
	}{
		{"no id in the context", context.Background(), LogHandler, ""},
		{"id in the context", withID, LogHandler, "abc-123"},
		{"wrapped twice logs it once", withID, func(h slog.Handler) slog.Handler { return LogHandler(LogHandler(h)) }, "abc-123"},
		{"kept through WithAttrs", withID, func(h slog.Handler) slog.Handler { return LogHandler(h).WithAttrs([]slog.Attr{slog.String("k", "v")}) }, "abc-123"},
		{"empty id is no id", With(context.Background(), ""), LogHandler, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(tt.wrap(slog.NewJSONHandler(&buf, nil))).InfoContext(tt.ctx, "hello")
			// A JSON object with a repeated key would still decode, so
			// count the key in the raw line too.
			if n := bytes.Count(buf.Bytes(), []byte(`"`+LogKey+`"`)); n > 1 {
				t.Fatalf("%s appears %d times: %s", LogKey, n, buf.Bytes())
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			got, _ := rec[LogKey].(string)
			if got != tt.wantID {
				t.Errorf("%s = %q, want %q (record %s)", LogKey, got, tt.wantID, buf.Bytes())
			}
		})
	}
}

func TestWithFrom(t *testing.T) {
	if got := From(context.Background()); got != "" {
		t.Errorf("From(empty context) = %q", got)
	}
	if got := From(With(context.Background(), "x")); got != "x" {
		t.Errorf("From(With(x)) = %q", got)
	}
}
