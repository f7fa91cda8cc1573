package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// bucket names one top-level bbolt bucket. Every bucket the store uses is
// declared here, once, so that the layout can be read in one place and Open
// can verify it.
type bucket []byte

var (
	// users: id -> JSON store.User.
	bucketUsers = bucket("users")
	// groups: id -> JSON store.Group (without members).
	bucketGroups = bucket("groups")
	// idx_user_name: lower-cased userName -> id (unique).
	bucketUserName = bucket("idx_user_name")
	// idx_user_external: externalId NUL id -> empty (case-exact, not unique).
	bucketUserExternal = bucket("idx_user_external")
	// idx_user_email: lower-cased email NUL id -> empty (not unique).
	bucketUserEmail = bucket("idx_user_email")
	// idx_group_name: lower-cased displayName -> id (unique).
	bucketGroupName = bucket("idx_group_name")
	// idx_group_external: externalId NUL id -> empty (case-exact, not unique).
	bucketGroupExternal = bucket("idx_group_external")
	// member: groupID NUL userID -> empty.
	bucketMember = bucket("member")
	// memberof: userID NUL groupID -> empty.
	bucketMemberOf = bucket("memberof")
	// queue: 8-byte big-endian due (unix nanos) + key -> JSON store.QueueItem.
	bucketQueue = bucket("queue")
	// queue_keys: key -> 8-byte due + 8-byte gen, so a key is queued once.
	// Its NextSequence hands out generations.
	bucketQueueKeys = bucket("queue_keys")
	// tokens: name -> JSON store.Token.
	bucketTokens = bucket("tokens")
	// meta: schema version and the counters behind Stats.
	bucketMeta = bucket("meta")
	// sync_status: queue key -> the sync engine's opaque status record
	// (since version 2).
	bucketStatus = bucket("sync_status")
	// replay: one-time id -> 8-byte big-endian expiry (unix nanos)
	// (since version 3).
	bucketReplay = bucket("replay")
	// replay_expiry: 8-byte expiry + id -> empty, so pruning reads only
	// the expired ids, in expiry order (since version 3).
	bucketReplayExpiry = bucket("replay_expiry")
	// keys: signing key ID -> JSON store.SigningKey (since version 3).
	bucketKeys = bucket("keys")
	// saml_meta: name -> blob: the cached upstream IdP metadata and the
	// sign-in's secrets (since version 3).
	bucketSAMLMeta = bucket("saml_meta")
)

// v1Buckets is the layout of version 1. migrateV1 creates exactly these,
// not allBuckets, so that a file from before versioning goes through every
// later migration like a version 1 file does.
var v1Buckets = []bucket{
	bucketUsers, bucketGroups,
	bucketUserName, bucketUserExternal, bucketUserEmail,
	bucketGroupName, bucketGroupExternal,
	bucketMember, bucketMemberOf,
	bucketQueue, bucketQueueKeys,
	bucketTokens, bucketMeta,
}

// allBuckets is the layout of the current schema version.
var allBuckets = append(slices.Clone(v1Buckets), bucketStatus,
	bucketReplay, bucketReplayExpiry, bucketKeys, bucketSAMLMeta)

// in returns the bucket in tx. Open has checked that every bucket exists,
// so the result is never nil for a store that opened.
func (b bucket) in(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(b) }

// Keys of the meta bucket.
var (
	metaSchemaVersion = []byte("schema_version")
	metaUsers         = []byte("count_users")
	metaGroups        = []byte("count_groups")
	metaQueueDepth    = []byte("count_queue")
)

// SchemaVersion is the layout version this code writes. A file with a newer
// version is refused rather than misread.
const SchemaVersion uint64 = 3

// ErrSchemaTooNew is returned by Open for a file written by a newer
// sagebridge.
var ErrSchemaTooNew = errors.New("store schema is newer than this build supports")

// migration brings a file from version to-1 to version to. It runs in the
// same transaction as the version bump, so a failed migration leaves the
// file as it was.
type migration struct {
	to    uint64
	name  string
	apply func(tx *bolt.Tx) error
}

// migrations are applied in order to every file whose version is lower than
// their target. A new, empty file starts at version 0 and goes through all
// of them, so new files and upgraded files take the same path.
var migrations = []migration{
	{to: 1, name: "create buckets and count records", apply: migrateV1},
	{to: 2, name: "create the sync status bucket", apply: migrateV2},
	{to: 3, name: "create the sign-in buckets", apply: migrateV3},
}

// migrateV1 creates the buckets of version 1 and computes the counters from
// the records present: files written before versioning (version 0) had no
// counters.
func migrateV1(tx *bolt.Tx) error {
	if err := createBuckets(tx, v1Buckets...); err != nil {
		return err
	}
	counts := []struct {
		key []byte
		b   bucket
	}{
		{metaUsers, bucketUsers},
		{metaGroups, bucketGroups},
		{metaQueueDepth, bucketQueue},
	}
	for _, c := range counts {
		n := uint64(c.b.in(tx).Stats().KeyN)
		if err := bucketMeta.in(tx).Put(c.key, u64(n)); err != nil {
			return fmt.Errorf("write counter %s: %w", c.key, err)
		}
	}
	return nil
}

// migrateV2 adds the bucket where the sync engine keeps what must survive
// a restart (profile-name bindings, applied hashes, held deletions).
func migrateV2(tx *bolt.Tx) error {
	return createBuckets(tx, bucketStatus)
}

// migrateV3 adds the buckets of SAML sign-in: the replay cache, the IdP
// signing keys and the metadata cache. It only creates buckets.
func migrateV3(tx *bolt.Tx) error {
	return createBuckets(tx, bucketReplay, bucketReplayExpiry, bucketKeys, bucketSAMLMeta)
}

func createBuckets(tx *bolt.Tx, bs ...bucket) error {
	for _, b := range bs {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

// migrate brings the file to SchemaVersion and checks the layout.
func migrate(tx *bolt.Tx) (from uint64, err error) {
	from, err = schemaVersion(tx)
	if err != nil {
		return 0, err
	}
	if from > SchemaVersion {
		return from, fmt.Errorf("%w: file has schema version %d, this build knows up to %d (use a newer sagebridge or restore a backup)",
			ErrSchemaTooNew, from, SchemaVersion)
	}
	for _, m := range migrations {
		if m.to <= from {
			continue
		}
		if err := m.apply(tx); err != nil {
			return from, fmt.Errorf("migrate schema to version %d (%s): %w", m.to, m.name, err)
		}
		if err := bucketMeta.in(tx).Put(metaSchemaVersion, u64(m.to)); err != nil {
			return from, fmt.Errorf("write schema version %d: %w", m.to, err)
		}
	}
	for _, b := range allBuckets {
		if b.in(tx) == nil {
			return from, fmt.Errorf("schema version %d but bucket %s is missing: file damaged", SchemaVersion, b)
		}
	}
	return from, nil
}

// schemaVersion reads the version, 0 when the file predates versioning.
func schemaVersion(tx *bolt.Tx) (uint64, error) {
	meta := bucketMeta.in(tx)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(metaSchemaVersion)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version: want 8 bytes, found %d", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func u64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// addCounter adjusts a meta counter in the transaction of the write it
// counts, so Stats never drifts from the records.
func addCounter(tx *bolt.Tx, key []byte, delta int) error {
	if delta == 0 {
		return nil
	}
	meta := bucketMeta.in(tx)
	n, err := counter(meta, key)
	if err != nil {
		return err
	}
	if delta < 0 && uint64(-delta) > n {
		return fmt.Errorf("counter %s would go below zero (%d%+d): store damaged", key, n, delta)
	}
	if err := meta.Put(key, u64(uint64(int64(n)+int64(delta)))); err != nil {
		return fmt.Errorf("write counter %s: %w", key, err)
	}
	return nil
}

func counter(meta *bolt.Bucket, key []byte) (uint64, error) {
	v := meta.Get(key)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("counter %s: want 8 bytes, found %d", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
