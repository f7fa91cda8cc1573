package filter

import "strings"

// Lookup is one index query: documents whose Attr equals Value, or starts
// with it when Prefix is set.
type Lookup struct {
	// Attr is the canonical path: "userName", "emails.value",
	// "members.value", or "<urn>:attr" for an extension attribute.
	// Compare it case-insensitively.
	Attr string
	// Value is the literal as written; the store folds case for indexes
	// of case-insensitive attributes.
	Value  string
	Prefix bool
}

// Plan returns index lookups whose union contains every document the filter
// can match, or ok=false when no index bounds it and the caller must scan.
// indexed holds the canonical paths (compared case-insensitively) the store
// can look up. Only eq and sw on string attributes plan: an index compares
// stored strings, so a dateTime or number written differently would be
// missed.
func (f *Filter) Plan(indexed map[string]bool) (lookups []Lookup, ok bool) {
	if f == nil || f.root == nil {
		return nil, false
	}
	idx := make(map[string]bool, len(indexed))
	for k, on := range indexed {
		if on {
			idx[strings.ToLower(k)] = true
		}
	}
	lookups, ok = f.root.plan(idx)
	if !ok {
		return nil, false
	}
	return dedupe(lookups), true
}

func (n *cmpNode) plan(idx map[string]bool) ([]Lookup, bool) {
	if n.kind != kStr || !stringLike(n.typ) || (n.op != Eq && n.op != Sw) || !idx[strings.ToLower(n.key)] {
		return nil, false
	}
	return []Lookup{{Attr: n.key, Value: n.str, Prefix: n.op == Sw}}, true
}

// plan of "and" needs one side only, since every match satisfies both; of
// "or", both, since a match may satisfy either.
func (n *logicalNode) plan(idx map[string]bool) ([]Lookup, bool) {
	left, lok := n.left.plan(idx)
	right, rok := n.right.plan(idx)
	switch {
	case n.and && lok && rok:
		if better(right, left) {
			return right, true
		}
		return left, true
	case n.and && lok:
		return left, true
	case n.and && rok:
		return right, true
	case lok && rok:
		return append(left[:len(left):len(left)], right...), true
	}
	return nil, false
}

// better prefers exact lookups to prefix scans, then fewer lookups.
func better(a, b []Lookup) bool {
	ap, bp := hasPrefix(a), hasPrefix(b)
	if ap != bp {
		return !ap
	}
	return len(a) < len(b)
}

func hasPrefix(ls []Lookup) bool {
	for _, l := range ls {
		if l.Prefix {
			return true
		}
	}
	return false
}

// A negation matches documents outside any index range.
func (n *notNode) plan(map[string]bool) ([]Lookup, bool) { return nil, false }

// The inner filter's comparisons carry keys such as "emails.value", and a
// document with a matching element has that value in its index entries.
func (n *vpNode) plan(idx map[string]bool) ([]Lookup, bool) { return n.inner.plan(idx) }

func dedupe(ls []Lookup) []Lookup {
	out := ls[:0:0]
	seen := make(map[Lookup]bool, len(ls))
	for _, l := range ls {
		key := Lookup{Attr: strings.ToLower(l.Attr), Value: l.Value, Prefix: l.Prefix}
		if !seen[key] {
			seen[key] = true
			out = append(out, l)
		}
	}
	return out
}
