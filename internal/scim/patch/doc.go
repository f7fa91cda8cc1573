// Package patch applies SCIM PATCH requests (RFC 7644 §3.5.2) to a resource
// document, including the shapes Okta and Microsoft Entra ID send that the
// RFC does not describe (see shared/docs/reference/scim-client-quirks.md):
// capitalised op names, path-less value objects whose keys are dotted or
// URN-qualified paths, filtered paths that create the element they do not
// find, the enterprise manager as a bare id, and member removal by a value
// array.
//
// A request is all or nothing: Apply works on a deep copy and returns it
// only when every operation succeeded and the result still has its required
// attributes. Attributes too large to load with the document (a group's
// members) are handed to an External, which records a delta for the caller
// to commit once Apply has succeeded.
package patch
