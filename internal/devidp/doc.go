// Package devidp is dev mode's stand-in for the two parties the bridge
// talks to in production, so that a sign-in can be tried end to end on
// loopback without an identity provider or an AWS account:
//
//   - a test identity provider (IdP): /dev/ lists the provisioned users
//     with a "Sign in as" button each; the button has the IdP post a
//     signed, IdP-initiated SAML Response for that user to the bridge's
//     assertion consumer service. Its metadata, at /dev/idp/metadata, is
//     what dev mode's configuration names as the upstream metadata URL;
//     it names /dev/idp/sso as the single sign-on service, so a sign-in
//     started at the bridge's /saml/login (SP-initiated) lands on the same
//     users page and its Response answers the bridge's AuthnRequest.
//     The IdP vouches for any name it is given, as a misconfigured real
//     one might: refusing unknown and inactive users is the bridge's job.
//   - AWS sign-in: /dev/aws-signin receives the bridge's Response (dev
//     mode points the bridge's destination there), verifies its signature
//     against the bridge's IdP metadata, checks what AWS would check
//     (destination, recipient, audience, validity) and shows what AWS
//     would act on: the role, the session tags, the transitive keys, the
//     source identity and the validity window, as HTML or JSON.
//
// Only cmd/bridge imports it, and only in dev mode.
package devidp
