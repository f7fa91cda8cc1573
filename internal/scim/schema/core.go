package schema

// Schema URNs of RFC 7643 and RFC 7644.
const (
	UserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpURN    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchURN     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ErrorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Builders keep the definitions below as close to the RFC 7643 §8.7 tables as
// Go allows.
func str(name string) *Attribute { return &Attribute{Name: name, Type: String} }
func exact(a *Attribute) *Attribute {
	a.CaseExact = true
	return a
}
func ro(a *Attribute) *Attribute {
	a.Mutability = ReadOnly
	return a
}
func typed(t Type, name string) *Attribute { return &Attribute{Name: name, Type: t} }
func ref(name string, types ...string) *Attribute {
	return &Attribute{Name: name, Type: Reference, ReferenceTypes: types, CaseExact: true}
}
func complexAttr(name string, multi bool, subs ...*Attribute) *Attribute {
	return &Attribute{Name: name, Type: Complex, MultiValued: multi, SubAttributes: subs}
}
func canonical(a *Attribute, values ...string) *Attribute {
	a.CanonicalValues = values
	return a
}

// multi is the usual shape of a multi-valued attribute: value, display, type
// and primary (RFC 7643 §2.4).
func multi(name string, valueType Type, types ...string) *Attribute {
	return complexAttr(name, true,
		typed(valueType, "value"), str("display"), canonical(str("type"), types...), typed(Boolean, "primary"))
}

// Common holds the attributes every resource has (RFC 7643 §3.1). They belong
// to no schema and are resolved before the resource's schemas.
var Common = mustSchema("urn:sagebridge:common", "Common", "RFC 7643 §3.1 common attributes", []*Attribute{
	{Name: "id", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedAlways, Uniqueness: UniqueServer},
	exact(str("externalId")),
	ro(complexAttr("meta", false,
		ro(exact(str("resourceType"))),
		ro(typed(DateTime, "created")),
		ro(typed(DateTime, "lastModified")),
		ro(ref("location", "uri")),
		ro(exact(str("version"))),
	)),
})

var User = mustSchema(UserURN, "User", "User Account", []*Attribute{
	{Name: "userName", Type: String, Required: true, Uniqueness: UniqueServer},
	complexAttr("name", false,
		str("formatted"), str("familyName"), str("givenName"), str("middleName"),
		str("honorificPrefix"), str("honorificSuffix")),
	str("displayName"),
	str("nickName"),
	ref("profileUrl", "external"),
	str("title"),
	str("userType"),
	str("preferredLanguage"),
	str("locale"),
	str("timezone"),
	typed(Boolean, "active"),
	{Name: "password", Type: String, Mutability: WriteOnly, Returned: ReturnedNever},
	multi("emails", String, "work", "home", "other"),
	multi("phoneNumbers", String, "work", "home", "mobile", "fax", "pager", "other"),
	multi("ims", String, "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
	multi("photos", Reference, "photo", "thumbnail"),
	complexAttr("addresses", true,
		str("formatted"), str("streetAddress"), str("locality"), str("region"),
		str("postalCode"), str("country"), canonical(str("type"), "work", "home", "other"),
		typed(Boolean, "primary")),
	ro(complexAttr("groups", true,
		ro(exact(str("value"))), ro(ref("$ref", "User", "Group")), ro(str("display")),
		ro(canonical(str("type"), "direct", "indirect")))),
	multi("entitlements", String),
	multi("roles", String),
	multi("x509Certificates", Binary),
})

var Group = mustSchema(GroupURN, "Group", "Group", []*Attribute{
	{Name: "displayName", Type: String, Required: true, Uniqueness: UniqueServer},
	complexAttr("members", true,
		&Attribute{Name: "value", Type: String, CaseExact: true, Mutability: Immutable},
		&Attribute{Name: "$ref", Type: Reference, ReferenceTypes: []string{"User", "Group"}, CaseExact: true, Mutability: Immutable},
		&Attribute{Name: "type", Type: String, CanonicalValues: []string{"User", "Group"}, Mutability: Immutable},
		ro(str("display"))),
})

var Enterprise = mustSchema(EnterpriseURN, "EnterpriseUser", "Enterprise User", []*Attribute{
	str("employeeNumber"),
	str("costCenter"),
	str("organization"),
	str("division"),
	str("department"),
	complexAttr("manager", false,
		str("value"), ref("$ref", "User"), ro(str("displayName"))),
})

func mustSchema(id, name, desc string, attrs []*Attribute) *Schema {
	s, err := NewSchema(id, name, desc, attrs)
	if err != nil {
		panic(err) // the built-in definitions are constants; a test loads them
	}
	return s
}
