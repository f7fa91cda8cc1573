// Package sync keeps AWS equal to what the store and the mapping say it
// should be: the IAM SAML provider, per team a federation role and an
// execution role, and per user a SageMaker Studio user profile.
//
// The package has two halves. Controller drives the durable queue of the
// store: it takes due keys, the ones other keys wait for first (its Lane:
// the SAML provider, the teams' roles), never runs one key on two workers
// at once, and turns each reconcile's outcome into a queue operation the
// way controller-runtime's reconcileHandler does (success completes the
// key, Result.RequeueAfter reschedules it, an error backs off per key, a
// Terminal error is recorded and not retried until the key is enqueued
// again). Syncer is the Reconciler: for each kind of key it reads the
// desired state (mapping.Resolve, mapping.Team), reads AWS, computes a pure
// plan (planSAML, planRoles, planProfile) and applies it.
//
// Reconciles are level-triggered: a key says what to look at, never what
// changed, so a crash, a duplicate or a missed event costs a repeat, never
// a wrong result. Every resource the sync creates carries the ownership
// tag, and nothing without it is ever changed or deleted: it is reported as
// a conflict instead.
//
// Importers alias the package (bridgesync), since it shadows the standard
// library's sync.
package sync
