package filter

import "github.com/sagebridge/sagebridge/internal/scim/schema"

func Parse(s string) (Expr, error) {
	return nil, schema.Errorf(schema.InvalidFilter, "filter", "not implemented")
}

type PatchPath struct {
	Attr   schema.Path
	Filter Expr
	Sub    string
}

func ParsePatchPath(s string) (PatchPath, error) {
	return PatchPath{}, schema.Errorf(schema.InvalidPath, s, "not implemented")
}

type Filter struct {
	expr Expr
}

func Compile(rt *schema.ResourceType, e Expr) (*Filter, error) {
	return nil, schema.Errorf(schema.InvalidFilter, "filter", "not implemented")
}

func (f *Filter) Match(doc map[string]any) bool { return false }
func (f *Filter) Expr() Expr                    { return f.expr }

func CompileElement(rt *schema.ResourceType, ref schema.Ref, e Expr) (*Filter, error) {
	return nil, schema.Errorf(schema.InvalidFilter, "filter", "not implemented")
}

func (f *Filter) MatchElement(elem map[string]any) bool { return false }

type Lookup struct {
	Attr   string
	Value  string
	Prefix bool
}

func (f *Filter) Plan(indexed map[string]bool) (lookups []Lookup, ok bool) { return nil, false }
