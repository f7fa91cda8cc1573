package patch

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sagebridge/sagebridge/internal/scim/filter"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

// External keeps a multi-valued complex attribute outside the document. A
// group's members are stored as records of their own, so a PATCH must never
// load 50,000 members to add one; Apply hands such operations to the
// External instead, in operation order. Implementations record a delta that
// the caller commits only if Apply succeeds, and may return a *schema.Error
// (for example invalidValue for a member that does not exist) to fail the
// request.
//
// Values are normalised elements: unknown sub-attributes have been rejected,
// null ones dropped ("$ref": null from Entra) and read-only ones (a member's
// "display") removed.
type External interface {
	// Add adds values, ignoring those already present.
	Add(values []map[string]any) error
	// Replace replaces all values with values (possibly none).
	Replace(values []map[string]any) error
	// Remove removes the values f matches (f nil: every value) that are
	// also equal to one of values (values nil: no such restriction), where
	// equal means every sub-attribute given in the element has that value.
	Remove(f *filter.Filter, values []map[string]any) error
}

// Options are the parts of a PATCH that are not in the document.
type Options struct {
	// ID is the resource's id. A path-less value object may carry "id"
	// (Okta re-sends it with every group rename); it is ignored when equal
	// to ID and rejected otherwise.
	ID string
	// External maps canonical names of top-level multi-valued complex
	// attributes (e.g. "members") to where their values live.
	External map[string]External
}

// Apply applies ops to a deep copy of doc and returns the copy. doc holds
// canonical attribute names with extension attributes nested under their
// URN, as schema.ResourceType.Normalize produces it.
//
// On any error doc is untouched, the result is nil, and the error is a
// *schema.Error whose Field names the operation ("Operations[2]") and whose
// Reason starts with the path or value key at fault; the caller must then
// discard whatever the Externals recorded. An error an External returns
// that is not a *schema.Error is wrapped with the operation index and
// returned as is, since it is a server fault rather than a bad request.
// After the last operation CheckRequired runs, so removing userName fails
// with invalidValue.
func Apply(rt *schema.ResourceType, doc map[string]any, ops []Operation, opts Options) (map[string]any, error) {
	if err := checkExternals(rt, opts.External); err != nil {
		return nil, err
	}
	e := &engine{rt: rt, opts: opts}
	e.doc, _ = deepCopy(doc).(map[string]any)
	if e.doc == nil {
		e.doc = map[string]any{}
	}
	for i, op := range ops {
		e.op = i
		if err := e.apply(op); err != nil {
			return nil, opError(i, op, err)
		}
	}
	// A write to an extension attribute creates the extension object first;
	// when the write turned out to change nothing, or removed its last
	// attribute, no empty object may remain.
	for _, x := range rt.Extensions {
		if m, ok := e.doc[x.Schema.ID].(map[string]any); ok && len(m) == 0 {
			delete(e.doc, x.Schema.ID)
		}
	}
	if err := rt.CheckRequired(e.doc); err != nil {
		// Blame the last operation that wrote or removed the attribute;
		// if none did, the document lacked it before the request.
		var se *schema.Error
		if errors.As(err, &se) {
			if i, ok := e.touched[se.Field]; ok {
				return nil, opError(i, ops[i], err)
			}
		}
		return nil, err
	}
	return e.doc, nil
}

// checkExternals rejects Options that cannot work. Such a mistake is the
// caller's, not the client's, so the error is not a *schema.Error.
func checkExternals(rt *schema.ResourceType, ext map[string]External) error {
	for name, x := range ext {
		a := rt.Schema.Attr(name)
		switch {
		case x == nil:
			return fmt.Errorf("patch: External %q is nil", name)
		case a == nil || a.Name != name:
			return fmt.Errorf("patch: External %q is not a canonical attribute name of %s", name, rt.Name)
		case !a.MultiValued || a.Type != schema.Complex:
			return fmt.Errorf("patch: External %q is not a multi-valued complex attribute", name)
		}
	}
	return nil
}

// engine applies operations to doc, its private copy.
type engine struct {
	rt   *schema.ResourceType
	doc  map[string]any
	opts Options

	op      int            // index of the operation being applied
	touched map[string]int // attribute, as CheckRequired names it -> last operation on it
}

// touch records that the current operation writes or removes t's attribute.
func (e *engine) touch(t target) {
	if t.ref.Attr == nil {
		return
	}
	name := t.ref.Attr.Name
	if e.rt.IsExtension(t.ref.Schema) {
		name = t.ref.Schema.ID + ":" + name
	}
	if e.touched == nil {
		e.touched = map[string]int{}
	}
	e.touched[name] = e.op
}

func (e *engine) apply(op Operation) error {
	name, ok := opName(op.Op)
	if !ok {
		return schema.Errorf(schema.InvalidSyntax, "op", "unknown operation %q: expected add, replace or remove", op.Op)
	}
	if name == opRemove {
		if op.Path == "" {
			return schema.Errorf(schema.NoTarget, "path", "remove needs a path")
		}
		t, err := e.resolve(op.Path)
		if err != nil {
			return err
		}
		return e.remove(t, op.Value)
	}
	if op.Value == nil {
		return schema.Errorf(schema.InvalidValue, fieldOr(op.Path, "value"), "%s needs a value", name)
	}
	if op.Path == "" {
		return e.writeObject(name, op.Value)
	}
	t, err := e.resolve(op.Path)
	if err != nil {
		return err
	}
	return e.write(name, t, op.Value)
}

// writeObject applies a path-less add or replace: each key of the value
// object is a path in its own right (RFC 7644 §3.5.2.1 and quirks A4, B4,
// B5), so "name.givenName" and URN-qualified keys address the attribute
// they name rather than becoming literal keys.
func (e *engine) writeObject(op string, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return schema.Errorf(schema.InvalidValue, "value", "without a path, value must be an object of attribute paths")
	}
	for _, k := range sortedKeys(obj) {
		switch {
		case strings.EqualFold(k, "schemas"):
			// The resource's schemas follow from its attributes; clients
			// that echo them change nothing.
			continue
		case strings.EqualFold(k, "id"):
			if err := e.checkID(obj[k]); err != nil {
				return err
			}
			continue
		}
		t, err := e.resolve(k)
		if err != nil {
			return err
		}
		if err := e.write(op, t, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkID accepts the resource's own id, which Okta re-sends in every
// path-less group replace (quirk B5); any other id would be a change of a
// read-only attribute.
func (e *engine) checkID(v any) error {
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok && e.opts.ID != "" && s == e.opts.ID {
		return nil
	}
	return schema.Errorf(schema.NotMutable, "id", "id is assigned by the server and cannot be changed")
}

// opError names the operation in err, keeping its scimType.
func opError(i int, op Operation, err error) error {
	field := fmt.Sprintf("Operations[%d]", i)
	var se *schema.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", field, err)
	}
	where := se.Field
	if where == "" {
		where = op.Path
	}
	reason := se.Reason
	if where != "" {
		reason = where + ": " + reason
	}
	return &schema.Error{Type: se.Type, Field: field, Reason: reason}
}

func fieldOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// sortedKeys makes the order in which a value object's keys are applied
// independent of map iteration, so that overlapping keys ("name" and
// "name.givenName") give the same result every time.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deepCopy copies the JSON-shaped parts of v so that nothing Apply changes
// is shared with the caller's document. Scalars are immutable and shared.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, sv := range x {
			m[k] = deepCopy(sv)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, sv := range x {
			l[i] = deepCopy(sv)
		}
		return l
	case []map[string]any:
		// Not what Normalize produces, but a caller may build a document
		// by hand; the copy uses the canonical shape.
		l := make([]any, len(x))
		for i, sv := range x {
			l[i] = deepCopy(sv)
		}
		return l
	}
	return v
}
