package sync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// IAM returns policy documents URL-encoded (RFC 3986) and reformatted:
// keys reordered, whitespace dropped, one-element arrays collapsed to their
// element. Comparing text would rewrite every policy on every pass, so
// documents are compared parsed and normalised.

// decodePolicy undoes IAM's URL encoding. PathUnescape, not QueryUnescape:
// a "+" in a policy is a plus, never a space. A document that is already
// plain JSON (an emulator, a test) is returned as it is, so a literal "%"
// inside it is not mangled.
func decodePolicy(doc string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc, nil
	}
	out, err := url.PathUnescape(doc)
	if err != nil {
		return "", fmt.Errorf("decode policy document: %w", err)
	}
	return out, nil
}

// canonicalPolicy returns a normal form of a policy document: every array
// sorted and deduplicated and collapsed to its element when it has one,
// numbers and booleans as strings (the policy grammar compares them as
// strings), object keys sorted by encoding/json.
func canonicalPolicy(doc string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("parse policy document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", fmt.Errorf("parse policy document: trailing data")
	}
	b, err := marshalCanonical(normalizePolicyValue(v))
	if err != nil {
		return "", fmt.Errorf("normalise policy document: %w", err)
	}
	return string(b), nil
}

func normalizePolicyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizePolicyValue(e)
		}
		return out
	case []any:
		// Order never matters in the policy grammar (statements, actions,
		// resources, condition values are sets), so sort by encoding.
		type enc struct {
			key string
			v   any
		}
		items := make([]enc, 0, len(x))
		for _, e := range x {
			n := normalizePolicyValue(e)
			b, _ := marshalCanonical(n)
			items = append(items, enc{string(b), n})
		}
		slices.SortFunc(items, func(a, b enc) int { return strings.Compare(a.key, b.key) })
		items = slices.CompactFunc(items, func(a, b enc) bool { return a.key == b.key })
		if len(items) == 1 {
			return items[0].v
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = it.v
		}
		return out
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return v
}

func marshalCanonical(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// policiesEqual reports whether two documents say the same. A document
// that does not parse equals nothing, so it gets rewritten.
func policiesEqual(a, b string) bool {
	ca, err := canonicalPolicy(a)
	if err != nil {
		return false
	}
	cb, err := canonicalPolicy(b)
	return err == nil && ca == cb
}
