package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
)

// decodeObject reads a JSON object body. Numbers stay json.Number so that
// integers are not rounded through float64.
func decodeObject(r *http.Request) (map[string]any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return parseObject(body)
}

// readBody reads the whole (size-limited) body. A body over the limit
// keeps its *http.MaxBytesError (413); any other failure to read is the
// client's (it went away or sent a broken chunked body), not a 500.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, &apiError{Status: http.StatusBadRequest, Type: schema.InvalidSyntax, Detail: "could not read the request body", Err: err}
	}
	return body, nil
}

func parseObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, errorf(http.StatusBadRequest, schema.InvalidSyntax, "request body is not a JSON object: "+jsonErrorText(err))
	}
	if obj == nil {
		return nil, errorf(http.StatusBadRequest, schema.InvalidSyntax, "request body is not a JSON object")
	}
	if dec.More() {
		return nil, errorf(http.StatusBadRequest, schema.InvalidSyntax, "unexpected data after the JSON object")
	}
	return obj, nil
}

// jsonErrorText keeps decoder messages (which name an offset or a type) but
// not Go type names.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s at offset %d", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s: expected %s, found %s", typ.Field, jsonKind(typ.Type), typ.Value)
		}
		return fmt.Sprintf("expected %s, found %s", jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends before it is complete"
	}
	return "malformed JSON"
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

func etag(version uint64) string { return `W/"` + strconv.FormatUint(version, 10) + `"` }

// etagMatches implements the comparison of RFC 9110 §13.1 for If-Match and
// If-None-Match lists, treating weak and strong tags alike as SCIM versions
// are opaque.
func etagMatches(header string, version uint64) bool {
	want := strings.TrimPrefix(etag(version), "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// notModified answers 304 when If-None-Match names the current version.
func notModified(w http.ResponseWriter, r *http.Request, version uint64) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" || !etagMatches(inm, version) {
		return false
	}
	w.Header().Set("ETag", etag(version))
	w.WriteHeader(http.StatusNotModified)
	return true
}

// precondition returns the check an update must pass for the request's
// If-Match header; it runs inside the store's update, against the version
// being replaced.
func precondition(r *http.Request) func(version uint64) error {
	h := r.Header.Get("If-Match")
	return func(version uint64) error {
		if h != "" && !etagMatches(h, version) {
			return fmt.Errorf("If-Match %s, stored %s: %w", h, etag(version), store.ErrVersionMismatch)
		}
		return nil
	}
}

// ifMatchVersion is the version a DELETE must hit: 0 for none. Only a
// single exact tag can be passed to the store; anything else is checked by
// reading first.
func (h *Handler) checkDeletePrecondition(r *http.Request, version func() (uint64, error)) (uint64, error) {
	hdr := r.Header.Get("If-Match")
	if hdr == "" {
		return 0, nil
	}
	v, err := version()
	if err != nil {
		return 0, err
	}
	if err := precondition(r)(v); err != nil {
		return 0, err
	}
	return v, nil
}

func (h *Handler) location(r *http.Request, rt *schema.ResourceType, id string) string {
	return h.base(r) + rt.Endpoint + "/" + id
}

func (h *Handler) meta(r *http.Request, rt *schema.ResourceType, id string, m store.Meta) map[string]any {
	return map[string]any{
		"resourceType": rt.Name,
		"created":      m.Created.UTC().Format(time.RFC3339Nano),
		"lastModified": m.Modified.UTC().Format(time.RFC3339Nano),
		"location":     h.location(r, rt, id),
		"version":      etag(m.Version),
	}
}

// decodeData turns a stored record's Data back into a document.
func decodeData(data json.RawMessage) (map[string]any, error) {
	doc := map[string]any{}
	if len(data) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode stored resource: %w", err)
	}
	return doc, nil
}

// render applies the projection and adds "schemas": the core schema and
// the extensions the returned document holds attributes of.
func render(rt *schema.ResourceType, doc map[string]any, proj schema.Projection) map[string]any {
	out := proj.Apply(rt, doc)
	schemas := []string{rt.Schema.ID}
	for _, e := range rt.Extensions {
		if _, ok := out[e.Schema.ID]; ok {
			schemas = append(schemas, e.Schema.ID)
		}
	}
	out["schemas"] = schemas
	return out
}

func writeResource(w http.ResponseWriter, status int, version uint64, body map[string]any) {
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, body)
}

func stringAttr(doc map[string]any, name string) string {
	s, _ := doc[name].(string)
	return s
}

// checkIndexed refuses a value too long for the store's indexes.
func checkIndexed(name, value string) error {
	if len(value) > maxIndexedBytes {
		return schema.Errorf(schema.InvalidValue, name, "is %d bytes long: at most %d are allowed", len(value), maxIndexedBytes)
	}
	return nil
}
