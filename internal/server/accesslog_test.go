package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/requestid"
)

func TestRequestLog(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool // the incoming id is used as is
	}{
		{"no id: one is made", "", false},
		{"sane id is kept", "okta-3f2a.b_9", true},
		{"128 characters is sane", strings.Repeat("a", 128), true},
		{"129 characters is not", strings.Repeat("a", 129), false},
		{"spaces are not sane", "a b", false},
		{"log injection is not sane", "x\"}\n{\"level\":\"ERROR\"", false},
		{"non-ASCII is not sane", "ид", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(requestid.LogHandler(slog.NewJSONHandler(&buf, nil)))
			var seen string
			h := withRequestLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = requestid.From(r.Context())
				log.InfoContext(r.Context(), "inside")
				w.WriteHeader(http.StatusCreated)
				w.Write([]byte("hello"))
			}), log)
			req := httptest.NewRequest("POST", "/scim/v2/Users?filter=userName+eq+%22alice%22", nil)
			if tt.incoming != "" {
				req.Header.Set(RequestIDHeader, tt.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			echoed := rec.Header().Get(RequestIDHeader)
			if tt.keep && echoed != tt.incoming {
				t.Fatalf("echoed %q, want the incoming %q", echoed, tt.incoming)
			}
			if !tt.keep && (echoed == tt.incoming || !saneRequestID(echoed)) {
				t.Fatalf("echoed %q: want a new sane id", echoed)
			}
			if seen != echoed {
				t.Fatalf("handler's context carries %q, response says %q", seen, echoed)
			}
			recs := decodeLines(t, &buf)
			if len(recs) != 2 {
				t.Fatalf("%d log records, want the handler's and the access line: %s", len(recs), buf.String())
			}
			for _, r := range recs {
				if r[requestid.LogKey] != echoed {
					t.Errorf("record %v: request_id %v, want %q", r["msg"], r[requestid.LogKey], echoed)
				}
			}
			access := recs[1]
			want := map[string]any{"msg": "http request", "level": "INFO", "method": "POST",
				"path": "/scim/v2/Users", "status": float64(201), "bytes": float64(5)}
			for k, v := range want {
				if access[k] != v {
					t.Errorf("access line %s = %v, want %v", k, access[k], v)
				}
			}
			if _, ok := access["duration"]; !ok {
				t.Error("access line has no duration")
			}
			if strings.Contains(buf.String(), "alice") {
				t.Error("the query string (a SCIM filter naming a person) was logged")
			}
		})
	}
}

// A handler that writes a body without WriteHeader answered 200.
func TestRequestLogImplicitStatus(t *testing.T) {
	var buf bytes.Buffer
	h := withRequestLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
		w.WriteHeader(http.StatusTeapot) // superfluous: the status is already sent
	}), slog.New(slog.NewJSONHandler(&buf, nil)))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if recs := decodeLines(t, &buf); recs[0]["status"] != float64(200) {
		t.Errorf("status %v, want 200", recs[0]["status"])
	}
}

func decodeLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}
