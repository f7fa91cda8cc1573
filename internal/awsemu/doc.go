// Package awsemu is an in-memory emulator of the IAM and SageMaker calls the
// sync engine makes, served over HTTP on loopback so the real aws-sdk-go-v2
// clients (pointed at it with BaseEndpoint) exercise their own serializers,
// deserializers, error mapping and retryer.
//
// One endpoint speaks both wire protocols: IAM's awsQuery (form POST with
// Action=..., XML responses) and SageMaker's awsJson1_1 (X-Amz-Target:
// SageMaker.<Op>, JSON). It reproduces what AWS does that a client can get
// wrong, as ../shared/docs/reference/aws-sync-semantics.md lists it: policy
// documents returned URL-encoded and reformatted, role names unique
// regardless of case, quotas that answer LimitExceeded (not a throttle),
// summary-only listings with small default pages, asynchronous profile, app
// and space states, deletes refused while dependents exist, and a window
// after a role is created during which SageMaker does not see it yet.
//
// Time and transitions are driven by an injectable clock and by counting
// observations (calls that name or list a resource), so tests never sleep.
// Faults (throttles with the real codes, 5xx, latency) are injected from a
// seeded generator, and every call is counted by operation and outcome.
//
// Signatures are not verified: with a custom endpoint the SDK signs with the
// configured region, whatever it is (reference rule 8).
//
// Only tests and the dev-mode wiring import this package.
package awsemu
