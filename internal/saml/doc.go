// Package saml is the bridge's federated sign-in: a SAML service provider
// towards the company's identity provider and a SAML identity provider
// towards AWS sign-in.
//
// A sign-in goes: /saml/login sends the browser to the company IdP with an
// AuthnRequest (Redirect binding) whose ID is remembered in an HMAC'd
// cookie; the IdP posts its Response to /saml/sp/acs; the bridge verifies
// it (verify.go), marks the assertion ID as used in the store's replay
// cache, finds the user in the store, maps the user and its groups with
// internal/mapping, and answers with an auto-submitting form that posts a
// new Response, signed with the bridge's own key, to AWS sign-in
// (awsresponse.go). A user in several teams under multiTeam "choose" first
// gets the bridge's picker page (choose.go), so that the assertion carries
// exactly one role and that team's session tags.
//
// Verification of the upstream Response is the bridge's own, on etree and
// goxmldsig's XML-DSig rules, rather than crewjam's
// ServiceProvider.ParseResponse: crewjam reads the time from package
// globals, fixes the clock skew, accepts a DOCTYPE, and evaluates the
// first of several assertions (see aws-saml-requirements.md section 8).
// The document is checked and parsed in one pass (xmlguard.go); the
// signature is verified as goxmldsig's Validate does, with an exclusive
// c14n writer that gives goxmldsig's bytes (signature.go, c14n.go), and
// the signed element is read back from the bytes its digest covers.
// crewjam supplies the SP metadata, the AuthnRequest and the metadata
// types.
//
// The Response for AWS is written as bytes, not built as a tree: the
// bridge writes the canonical form of what it signs directly and signs it
// with one RSA operation (awsresponse.go, xmlout.go); the bytes are those
// the former etree and goxmldsig construction made.
//
// Every sign-in decision is counted (sagebridge_saml_signins_total by
// result and reason), timed, and written as one slog record with the
// message "audit". A refused sign-in gets a page with a reference id that
// the audit record carries too; the page never says why.
package saml
