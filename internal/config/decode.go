package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder fills a Go value from a yaml.Node tree one field at a time. It
// replaces yaml.v3's own strict mode (Decoder.KnownFields), which stops at
// the first unknown key and does not say which field a type error belongs
// to; walking the tree ourselves reports every key with its line and dotted
// path, and records where each field was set for Validate.
type decoder struct {
	file     string
	lines    map[string]int  // field path -> line of its value
	bad      map[string]bool // field paths that failed to decode
	problems Problems
}

func (d *decoder) add(line int, field, reason string) {
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Field: field, Reason: reason})
}

func (d *decoder) fail(n *yaml.Node, field, reason string) {
	d.bad[field] = true
	d.add(n.Line, field, reason)
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// defaulter is a section that has defaults of its own. An optional section
// (a pointer field) starts from them when it appears in the file, so that
// writing one key of it does not zero the others.
type defaulter interface {
	setDefaults()
}

// decode sets v from n. A null value (a key with nothing after it) leaves v
// as it was, so that "scim:" with no body keeps every default.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.ShortTag() == "!!null" {
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(n, path, err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		if def, ok := elem.Interface().(defaulter); ok {
			def.setDefaults()
		}
		d.decode(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "must be a list, got "+describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, v, path)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, fmt.Sprintf("must be %s, got %s", kindName(v.Kind()), describe(n)))
			return
		}
		// yaml.v3 does the scalar conversion (and its overflow checks), but
		// it would truncate 1.5 to an integer and read "yes" as true; the
		// tag check refuses those. A fresh value keeps the default in place
		// when either refuses.
		tmp := reflect.New(v.Type())
		if !tagFits(n.ShortTag(), v.Kind()) || n.Decode(tmp.Interface()) != nil {
			d.fail(n, path, fmt.Sprintf("must be %s, got %s", kindName(v.Kind()), describe(n)))
			return
		}
		v.Set(tmp.Elem())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping, got "+describe(n))
		return
	}
	fields := yamlFields(v.Type())
	// Merge keys ("<<: *base") go first so that keys written out beside
	// them win, as YAML's merge semantics say.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMerge(n.Content[i]) {
			d.merge(n.Content[i+1], v, path)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			continue
		}
		key, ok := d.key(k, path)
		if !ok {
			continue
		}
		field := joinPath(path, key)
		if first, dup := seen[key]; dup {
			d.add(k.Line, field, fmt.Sprintf("set twice (first on line %d)", first))
			continue
		}
		seen[key] = k.Line
		idx, known := fields[key]
		if !known {
			d.add(k.Line, field, unknownReason(key, fields))
			continue
		}
		d.decode(val, v.FieldByIndex(idx), field)
	}
}

func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if n.Kind == yaml.SequenceNode {
		for _, m := range n.Content {
			d.decodeStruct(resolveAlias(m), v, path)
		}
		return
	}
	d.decodeStruct(n, v, path)
}

// decodeMap serves sections keyed by free-form names (such as the
// map of session tags or of team overrides).
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping, got "+describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("config: map field %s needs string keys", path))
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path)
		if !ok {
			continue
		}
		field := joinPath(path, key)
		if first, dup := seen[key]; dup {
			d.add(k.Line, field, fmt.Sprintf("set twice (first on line %d)", first))
			continue
		}
		seen[key] = k.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, field)
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

func (d *decoder) key(k *yaml.Node, path string) (string, bool) {
	k = resolveAlias(k)
	if k.Kind != yaml.ScalarNode {
		d.add(k.Line, path, "keys must be plain names, got "+describe(k))
		return "", false
	}
	return k.Value, true
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlFields maps a struct's YAML keys to field index paths, following the
// same tag rules as yaml.v3 (including ",inline" structs, whose keys sit
// beside the outer struct's) so that the walk and a plain yaml.Marshal agree.
func yamlFields(t reflect.Type) map[string][]int {
	fields := make(map[string][]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && slices.Contains(strings.Split(opts, ","), "inline") {
			for k, idx := range yamlFields(f.Type) {
				fields[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = []int{i}
	}
	return fields
}

// unknownReason names the key the writer most likely meant: a case slip
// ("multivalued") gets a direct suggestion, anything else the list.
func unknownReason(key string, fields map[string][]int) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf("unknown field; did you mean %q?", k)
		}
		known = append(known, k)
	}
	sort.Strings(known)
	return "unknown field; known fields here: " + strings.Join(known, ", ")
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe says what a node holds, for "must be X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// tagFits reports whether a scalar with the resolved YAML tag may fill a
// field of kind k without guessing. Strings take any scalar, so that
// unquoted values such as "canonicalValues: [2024, on]" stay as written.
func tagFits(tag string, k reflect.Kind) bool {
	switch k {
	case reflect.Bool:
		return tag == "!!bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return tag == "!!int"
	case reflect.Float32, reflect.Float64:
		return tag == "!!int" || tag == "!!float"
	}
	return true
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + k.String()
}
