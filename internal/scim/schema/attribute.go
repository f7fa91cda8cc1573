// Package schema is the RFC 7643 attribute model: schemas, attributes and
// their characteristics, resource types, attribute paths, and the operations
// that follow from them (normalising input, projection for output).
//
// Documents are map[string]any with canonical attribute names; an extension's
// attributes live in a nested object keyed by the extension's schema URN.
// Normalised values are string, bool, int64, float64, map[string]any and
// []any.
package schema

import (
	"fmt"
	"strings"
)

type Type string

const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

type Mutability string

const (
	ReadWrite Mutability = "readWrite"
	ReadOnly  Mutability = "readOnly"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

type Returned string

const (
	ReturnedDefault Returned = "default"
	ReturnedAlways  Returned = "always"
	ReturnedNever   Returned = "never"
	ReturnedRequest Returned = "request"
)

type Uniqueness string

const (
	UniqueNone   Uniqueness = "none"
	UniqueServer Uniqueness = "server"
	UniqueGlobal Uniqueness = "global"
)

// Attribute is an attribute definition as /Schemas publishes it.
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`

	subs map[string]*Attribute
}

// Sub returns the sub-attribute with the given name, compared
// case-insensitively as RFC 7643 §2.1 requires, or nil.
func (a *Attribute) Sub(name string) *Attribute {
	return a.subs[strings.ToLower(name)]
}

// Schema is a core or extension schema.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`

	attrs map[string]*Attribute
}

// Attr returns the top-level attribute with the given name, or nil.
func (s *Schema) Attr(name string) *Attribute {
	return s.attrs[strings.ToLower(name)]
}

// NewSchema checks the definitions, fills in RFC 7643 §2.2 defaults and
// builds the lookup tables. It returns every problem found, not just the
// first.
func NewSchema(id, name, description string, attrs []*Attribute) (*Schema, error) {
	s := &Schema{ID: id, Name: name, Description: description, Attributes: attrs}
	var problems []string
	if !strings.HasPrefix(strings.ToLower(id), "urn:") {
		problems = append(problems, fmt.Sprintf("schema id %q: must be a URN", id))
	}
	s.attrs, problems = indexAttributes(attrs, "", problems)
	if len(problems) > 0 {
		return nil, fmt.Errorf("schema %s: %s", id, strings.Join(problems, "; "))
	}
	return s, nil
}

func indexAttributes(attrs []*Attribute, parent string, problems []string) (map[string]*Attribute, []string) {
	idx := make(map[string]*Attribute, len(attrs))
	for _, a := range attrs {
		where := a.Name
		if parent != "" {
			where = parent + "." + a.Name
		}
		if !validAttrName(a.Name) {
			problems = append(problems, fmt.Sprintf("attribute %q: name must be ALPHA *(nameChar)", where))
		}
		if _, dup := idx[strings.ToLower(a.Name)]; dup {
			problems = append(problems, fmt.Sprintf("attribute %q: defined twice", where))
		}
		idx[strings.ToLower(a.Name)] = a
		setDefaults(a)
		switch a.Type {
		case String, Boolean, Decimal, Integer, DateTime, Binary, Reference:
			if len(a.SubAttributes) > 0 {
				problems = append(problems, fmt.Sprintf("attribute %q: only complex attributes have sub-attributes", where))
			}
		case Complex:
			if parent != "" {
				problems = append(problems, fmt.Sprintf("attribute %q: a complex attribute cannot contain another", where))
			}
			a.subs, problems = indexAttributes(a.SubAttributes, where, problems)
		default:
			problems = append(problems, fmt.Sprintf("attribute %q: unknown type %q", where, a.Type))
		}
	}
	return idx, problems
}

func setDefaults(a *Attribute) {
	if a.Mutability == "" {
		a.Mutability = ReadWrite
	}
	if a.Returned == "" {
		a.Returned = ReturnedDefault
	}
	if a.Uniqueness == "" {
		a.Uniqueness = UniqueNone
	}
}

// validAttrName follows RFC 7644 §3.10: ATTRNAME = ALPHA *(nameChar), with
// "$ref" allowed as the one reserved sub-attribute name.
func validAttrName(name string) bool {
	if name == "$ref" {
		return true
	}
	if name == "" || !isAlpha(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
