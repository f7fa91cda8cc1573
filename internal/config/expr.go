package config

import (
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"gopkg.in/yaml.v3"
)

// Expr is a CEL expression as written in the file. It is compiled and type
// checked when the configuration is loaded, never at sign-in time; the
// compiled programs are in Compiled.
type Expr struct {
	Source string
	// line is where the expression text starts, so that a problem CEL finds
	// on the third line of a block scalar points at that line of the file.
	line int
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (e *Expr) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a CEL expression (a string), got %s", describe(n))
	}
	e.Source = n.Value
	e.line = n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		e.line++ // the text starts below the "|" or ">" indicator
	}
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (e Expr) MarshalYAML() (any, error) {
	return e.Source, nil
}

// Names of the CEL variables. An expression sees the user and the groups it
// is a member of; a session tag expression also sees the derived userId and
// the team the session is for.
const (
	VarUser   = "user"   // map: the SCIM document plus id, userName, externalId, active
	VarGroups = "groups" // list of maps: each group's SCIM document plus id, displayName, externalId
	VarUserID = "userId" // string: the sanitised userId
	VarTeam   = "team"   // string: the team name
)

// exprCostLimit bounds one evaluation. Expressions run on every sign-in and
// every reconcile; a comprehension over a large group list must fail
// rather than stall the caller.
const exprCostLimit = 100000

// envs holds the two CEL environments, built once: building one costs
// milliseconds, and every expression of every loaded file shares them.
var envs = sync.OnceValues(func() ([2]*cel.Env, error) {
	base, err := cel.NewEnv(
		cel.Variable(VarUser, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(VarGroups, cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
		// split, lowerAscii, replace, substring, ...: userName.split('@')[0]
		// is the most common userId rule.
		ext.Strings(),
		// user[?'urn:...'].?costCenter.orValue('') reads an extension
		// attribute that a user may not have.
		cel.OptionalTypes(),
	)
	if err != nil {
		return [2]*cel.Env{}, fmt.Errorf("build CEL environment: %w", err)
	}
	tags, err := base.Extend(
		cel.Variable(VarUserID, cel.StringType),
		cel.Variable(VarTeam, cel.StringType),
	)
	if err != nil {
		return [2]*cel.Env{}, fmt.Errorf("build CEL environment for session tags: %w", err)
	}
	return [2]*cel.Env{base, tags}, nil
})

// exprKind selects the environment an expression is compiled in.
type exprKind int

const (
	userIDExpr exprKind = iota
	sessionTagExpr
)

// compile parses, type-checks and plans e. Every problem is reported
// through v with the file line of the offending part of the expression.
func compile(v *validator, field string, e Expr, kind exprKind) cel.Program {
	if strings.TrimSpace(e.Source) == "" {
		v.add(field, "must be a CEL expression, such as user.userName.split('@')[0]")
		return nil
	}
	es, err := envs()
	if err != nil {
		v.add(field, err.Error())
		return nil
	}
	env := es[kind]
	ast, iss := env.Compile(e.Source)
	if iss.Err() != nil {
		for _, ce := range iss.Errors() {
			line := v.line(field)
			if e.line > 0 {
				line = e.line + ce.Location.Line() - 1
			}
			msg := strings.TrimSuffix(ce.Message, " (in container '')")
			v.addAt(line, field, fmt.Sprintf("invalid expression at column %d: %s", ce.Location.Column()+1, msg))
		}
		return nil
	}
	// A string, or dyn (a value read from the SCIM document, whose type
	// only the document knows): anything else can never be a userId or a
	// tag value, so it is refused here rather than on every sign-in.
	switch out := ast.OutputType(); out.Kind() {
	case types.StringKind, types.DynKind:
	case types.OpaqueKind:
		v.add(field, fmt.Sprintf("must evaluate to a string, got %s; end an optional chain with .orValue('...')", cel.FormatCELType(out)))
		return nil
	default:
		v.add(field, fmt.Sprintf("must evaluate to a string, got %s; convert it with string(...)", cel.FormatCELType(out)))
		return nil
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(exprCostLimit))
	if err != nil {
		v.add(field, fmt.Sprintf("invalid expression: %v", err))
		return nil
	}
	return prg
}
