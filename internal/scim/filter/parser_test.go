package filter

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/sagebridge/sagebridge/internal/scim/schema"
)

const (
	userURN = schema.UserURN
	entURN  = schema.EnterpriseURN
)

func path(s string) schema.Path {
	p, err := schema.ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

func cmpx(p string, op Op, v any) *Compare { return &Compare{Path: path(p), Op: op, Value: v} }
func and(l, r Expr) *Logical               { return &Logical{Op: "and", Left: l, Right: r} }
func or(l, r Expr) *Logical                { return &Logical{Op: "or", Left: l, Right: r} }
func not(x Expr) *Not                      { return &Not{X: x} }
func vp(p string, f Expr) *ValuePath       { return &ValuePath{Attr: path(p), Filter: f} }

var parseCases = []struct {
	name string
	in   string
	want Expr
}{
	{"eq", `userName eq "bjensen"`, cmpx("userName", Eq, "bjensen")},
	{"ne", `userType ne "Employee"`, cmpx("userType", Ne, "Employee")},
	{"co", `name.familyName co "O'Malley"`, cmpx("name.familyName", Co, "O'Malley")},
	{"sw", `userName sw "J"`, cmpx("userName", Sw, "J")},
	{"ew", `emails.value ew "@example.com"`, cmpx("emails.value", Ew, "@example.com")},
	{"gt", `meta.lastModified gt "2011-05-13T04:42:34Z"`, cmpx("meta.lastModified", Gt, "2011-05-13T04:42:34Z")},
	{"ge", `meta.lastModified ge "2011-05-13T04:42:34Z"`, cmpx("meta.lastModified", Ge, "2011-05-13T04:42:34Z")},
	{"lt", `meta.lastModified lt "2011-05-13T04:42:34Z"`, cmpx("meta.lastModified", Lt, "2011-05-13T04:42:34Z")},
	{"le", `meta.lastModified le "2011-05-13T04:42:34Z"`, cmpx("meta.lastModified", Le, "2011-05-13T04:42:34Z")},
	{"pr", `title pr`, &Compare{Path: path("title"), Op: Pr}},
	{"operators any case", `userName EQ "a" AnD title Pr oR active Eq TRUE`,
		or(and(cmpx("userName", Eq, "a"), &Compare{Path: path("title"), Op: Pr}), cmpx("active", Eq, true))},
	{"false", `active eq false`, cmpx("active", Eq, false)},
	{"null", `title eq NULL`, cmpx("title", Eq, nil)},
	{"integer", `x eq 42`, cmpx("x", Eq, 42.0)},
	{"negative exponent", `x gt -1.5e-3`, cmpx("x", Gt, -1.5e-3)},
	{"exponent", `x lt 2E+10`, cmpx("x", Lt, 2e10)},
	{"zero", `x eq -0`, cmpx("x", Eq, 0.0)},
	{"escapes", `displayName eq "a\"b\\c\/d\n\u00e9\ud83d\ude00"`, cmpx("displayName", Eq, "a\"b\\c/d\né😀")},
	{"lone surrogate", `displayName eq "\ud800x"`, cmpx("displayName", Eq, "\ufffdx")},
	{"utf8", `displayName eq "Zoë 日本"`, cmpx("displayName", Eq, "Zoë 日本")},
	{"and binds tighter than or", `a pr or b pr and c pr`,
		or(&Compare{Path: path("a"), Op: Pr}, and(&Compare{Path: path("b"), Op: Pr}, &Compare{Path: path("c"), Op: Pr}))},
	{"left assoc and", `a pr and b pr and c pr`,
		and(and(&Compare{Path: path("a"), Op: Pr}, &Compare{Path: path("b"), Op: Pr}), &Compare{Path: path("c"), Op: Pr})},
	{"grouping", `(a pr or b pr) and c pr`,
		and(or(&Compare{Path: path("a"), Op: Pr}, &Compare{Path: path("b"), Op: Pr}), &Compare{Path: path("c"), Op: Pr})},
	{"right grouping", `a pr and (b pr and c pr)`,
		and(&Compare{Path: path("a"), Op: Pr}, and(&Compare{Path: path("b"), Op: Pr}, &Compare{Path: path("c"), Op: Pr}))},
	{"redundant parens", `((userName eq "x"))`, cmpx("userName", Eq, "x")},
	{"rfc not", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		and(cmpx("userType", Ne, "Employee"), not(or(cmpx("emails", Co, "example.com"), cmpx("emails.value", Co, "example.org"))))},
	{"not without space", `not(title pr)`, not(&Compare{Path: path("title"), Op: Pr})},
	{"NOT", `NOT (title pr)`, not(&Compare{Path: path("title"), Op: Pr})},
	{"core urn", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, cmpx(userURN+":userName", Eq, "x")},
	{"core urn sub", `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x"`, cmpx(userURN+":name.familyName", Eq, "x")},
	{"enterprise urn", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "4711"`,
		cmpx(entURN+":employeeNumber", Eq, "4711")},
	{"enterprise manager", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u-1"`,
		cmpx(entURN+":manager.value", Eq, "u-1")},
	{"value path", `emails[type eq "work" and value co "@example.com"]`,
		vp("emails", and(cmpx("type", Eq, "work"), cmpx("value", Co, "@example.com")))},
	{"rfc value path or", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		or(and(cmpx("userType", Eq, "Employee"), vp("emails", and(cmpx("type", Eq, "work"), cmpx("value", Co, "@example.com")))),
			vp("ims", and(cmpx("type", Eq, "xmpp"), cmpx("value", Co, "@foo.com"))))},
	{"value path spaced", `emails [ type eq "work" ]`, vp("emails", cmpx("type", Eq, "work"))},
	{"value path urn", `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`, vp(userURN+":emails", cmpx("type", Eq, "work"))},
	{"members value path", `members[value eq "2819c223"]`, vp("members", cmpx("value", Eq, "2819c223"))},
	{"entra value path sub", `emails[type eq "work"].value eq "alice@corp.example"`,
		vp("emails", and(cmpx("type", Eq, "work"), cmpx("value", Eq, "alice@corp.example")))},
	{"entra value path or", `emails[type eq "work" or type eq "home"].value eq "a"`,
		vp("emails", and(or(cmpx("type", Eq, "work"), cmpx("type", Eq, "home")), cmpx("value", Eq, "a")))},
	{"entra sub pr", `emails[type eq "work"].value pr`, vp("emails", and(cmpx("type", Eq, "work"), &Compare{Path: path("value"), Op: Pr}))},
	{"entra in and", `emails[type eq "work"].value eq "a" and active eq true`,
		and(vp("emails", and(cmpx("type", Eq, "work"), cmpx("value", Eq, "a"))), cmpx("active", Eq, true))},
	{"unquoted at end", `externalId eq jyoung`, cmpx("externalId", Eq, "jyoung")},
	{"unquoted before and", `externalId eq jyoung and userName eq "x"`, and(cmpx("externalId", Eq, "jyoung"), cmpx("userName", Eq, "x"))},
	{"unquoted before OR", `externalId eq jyoung OR externalId eq ksmith`, or(cmpx("externalId", Eq, "jyoung"), cmpx("externalId", Eq, "ksmith"))},
	{"unquoted before paren", `(externalId eq jyoung)`, cmpx("externalId", Eq, "jyoung")},
	{"unquoted before bracket", `emails[type eq work]`, vp("emails", cmpx("type", Eq, "work"))},
	{"unquoted email", `userName eq alice@corp.example`, cmpx("userName", Eq, "alice@corp.example")},
	{"unquoted not a number", `externalId eq 0123`, cmpx("externalId", Eq, "0123")},
	{"unquoted trailing space", `externalId eq jyoung  `, cmpx("externalId", Eq, "jyoung")},
	{"tabs and spaces", "\tuserName \t eq  \"x\"  and\ttitle pr ", and(cmpx("userName", Eq, "x"), &Compare{Path: path("title"), Op: Pr})},
	{"$ref", `members[$ref eq "https://x/Users/1"]`, vp("members", cmpx("$ref", Eq, "https://x/Users/1"))},
	{"attribute case kept", `USERNAME eq "x"`, cmpx("USERNAME", Eq, "x")},
	{"max depth", strings.Repeat("(", maxDepth) + "title pr" + strings.Repeat(")", maxDepth), &Compare{Path: path("title"), Op: Pr}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			canon := got.String()
			again, err := Parse(canon)
			if err != nil {
				t.Fatalf("re-parse of %q: %v", canon, err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("re-parse of %q gave %s", canon, again)
			}
		})
	}
}

// Entra's Test Connection sends + for spaces; the handler URL-decodes the
// query before calling Parse.
func TestParseURLDecoded(t *testing.T) {
	for _, raw := range []string{
		`userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22`,
		`userName%20eq%20%227d420df3-9995-4831-a406-ecf8166f5f6a%22`,
	} {
		dec, err := url.QueryUnescape(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(dec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", dec, err)
		}
		want := cmpx("userName", Eq, "7d420df3-9995-4831-a406-ecf8166f5f6a")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %s", got)
		}
	}
}

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		{`userName Eq "bjensen"`, `userName eq "bjensen"`},
		{`a pr OR b pr AND c pr`, `a pr or b pr and c pr`},
		{`(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{`a pr and (b pr and c pr)`, `a pr and (b pr and c pr)`},
		{`a pr or (b pr or c pr)`, `a pr or (b pr or c pr)`},
		{`a pr or (b pr and c pr)`, `a pr or b pr and c pr`},
		{`((a pr))`, `a pr`},
		{`not(a pr or b pr)`, `not (a pr or b pr)`},
		{`x eq 1000000`, `x eq 1000000`},
		{`x eq 1e21`, `x eq 1e+21`},
		{`x eq 1.50`, `x eq 1.5`},
		{`x eq True`, `x eq true`},
		{`x eq Null`, `x eq null`},
		{`externalId eq jyoung`, `externalId eq "jyoung"`},
		{`x eq "tab\there \u0001 \"q\" back\\"`, `x eq "tab\there \u0001 \"q\" back\\"`},
		{`emails[type eq "work"].value eq "a"`, `emails[type eq "work" and value eq "a"]`},
		{`emails[type eq "w" or type eq "h"].value eq "a"`, `emails[(type eq "w" or type eq "h") and value eq "a"]`},
	}
	for _, tc := range cases {
		e, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := e.String(); got != tc.want {
			t.Errorf("String of %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Hand-built trees, including value nodes rather than pointers, print too.
func TestStringHandBuilt(t *testing.T) {
	e := Logical{Op: "AND", Left: Compare{Path: path("userName"), Op: Eq, Value: int64(3)}, Right: Not{X: nil}}
	if got, want := e.String(), `userName eq 3 and not ()`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

var parseErrorCases = []struct {
	name   string
	in     string
	offset int
	reason string
}{
	{"empty", ``, 0, "empty filter"},
	{"blank", `   `, 3, "empty filter"},
	{"unterminated string", `userName eq "bjensen`, 12, "unterminated string"},
	{"unterminated escape", `userName eq "a\`, 14, "unterminated escape"},
	{"bad escape", `userName eq "a\x"`, 14, "invalid escape"},
	{"bad unicode escape", `userName eq "\u12g4"`, 13, "four hex digits"},
	{"raw control in string", "userName eq \"a\x01\"", 14, "control character"},
	{"control outside string", "userName\x00 eq \"a\"", 8, "control character"},
	{"missing value", `userName eq`, 11, "expected a value after eq"},
	{"missing value before and", `userName eq and title pr`, 12, "expected a value"},
	{"missing operator", `userName`, 8, "expected an operator"},
	{"missing operand after and", `userName eq "x" and`, 19, "expected an attribute path"},
	{"missing operand after or", `userName eq "x" or )`, 19, `")"`},
	{"leading and", `and title pr`, 0, "expected an attribute path"},
	{"unknown operator", `userName equals "x"`, 9, `unknown operator "equals"`},
	{"unknown operator 2", `userName = "x"`, 9, "unknown operator"},
	{"unclosed paren", `(userName eq "x"`, 16, `expected ")" to close "(" at offset 0`},
	{"stray close paren", `userName eq "x")`, 15, `")" without a matching "("`},
	{"empty parens", `()`, 1, "expected an attribute path"},
	{"unclosed bracket", `emails[type eq "work"`, 21, `expected "]" to close "[" at offset 6`},
	{"stray bracket", `userName eq "x"]`, 15, `"]" without a matching "["`},
	{"empty brackets", `emails[]`, 7, "empty value filter"},
	{"nested value path", `emails[type[value eq "x"] pr]`, 11, "cannot be nested"},
	{"value path on sub", `name.familyName[value eq "x"]`, 0, "not to the sub-attribute"},
	{"not without paren", `not title pr`, 4, `expected "(" after "not"`},
	{"trailing garbage", `userName eq "x" garbage`, 16, `expected "and", "or" or the end`},
	{"trailing value", `title pr "x"`, 9, `expected "and", "or"`},
	{"bad path", `user..name eq "x"`, 0, "not a valid attribute path"},
	{"trailing dot path", `name. eq "x"`, 0, "not a valid attribute path"},
	{"path starts with digit", `1abc eq "x"`, 0, "not a valid attribute path"},
	{"string as path", `"userName" eq "x"`, 0, "expected an attribute path"},
	{"unquoted value followed by word", `displayName eq Data Scientists`, 15, "double quotes"},
	{"unquoted value followed by string", `displayName eq Data"x"`, 15, "double quotes"},
	{"number out of range", `x eq 1e400`, 5, "out of range"},
	{"bad entra sub", `emails[type eq "work"].value.x eq "a"`, 22, "not a valid sub-attribute"},
	{"entra sub urn", `emails[type eq "work"].urn:x:y eq "a"`, 22, "not a valid sub-attribute"},
	{"value path then op", `emails[type eq "work"] eq "x"`, 23, `expected "and", "or"`},
	{"invalid utf8", "userName eq \"a\xffb\"", 14, "invalid UTF-8"},
	{"too deep parens", strings.Repeat("(", maxDepth+1) + "title pr" + strings.Repeat(")", maxDepth+1), maxDepth, "nested more than 64"},
	{"too deep not", strings.Repeat("not (", maxDepth+1) + "title pr" + strings.Repeat(")", maxDepth+1), 5*maxDepth + 4, "nested more than 64"},
	{"too long", `userName eq "` + strings.Repeat("a", maxLen) + `"`, maxLen, "longer than 4096"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.in, e)
			}
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *schema.Error", err, err)
			}
			if se.Type != schema.InvalidFilter || se.Field != "filter" {
				t.Errorf("error %+v: want type invalidFilter, field filter", se)
			}
			prefix := "at offset " + itoa(tc.offset) + ": "
			if !strings.HasPrefix(se.Reason, prefix) || !strings.Contains(se.Reason, tc.reason) {
				t.Errorf("Parse(%q) reason %q, want prefix %q containing %q", tc.in, se.Reason, prefix, tc.reason)
			}
		})
	}
}

// Depth counts "(" and "[": 63 parentheses plus a value path is the limit,
// and the Entra form may not push the canonical text beyond it.
func TestParseDepthWithValuePath(t *testing.T) {
	in := strings.Repeat("(", maxDepth-1) + `emails[type eq "work"]` + strings.Repeat(")", maxDepth-1)
	if _, err := Parse(in); err != nil {
		t.Fatalf("depth %d: %v", maxDepth, err)
	}
	in = strings.Repeat("(", maxDepth) + `emails[type eq "work"]` + strings.Repeat(")", maxDepth)
	if _, err := Parse(in); err == nil {
		t.Fatal("depth 65 accepted")
	}
	// The "or" inside gains parentheses when printed; at the limit that is
	// refused rather than printing text Parse would reject.
	in = strings.Repeat("(", maxDepth-1) + `emails[type eq "w" or type eq "h"].value eq "a"` + strings.Repeat(")", maxDepth-1)
	if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("got %v, want a depth error", err)
	}
	in = strings.Repeat("(", maxDepth-2) + `emails[type eq "w" or type eq "h"].value eq "a"` + strings.Repeat(")", maxDepth-2)
	e, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(e.String()); err != nil {
		t.Fatalf("canonical form %q: %v", e.String(), err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
