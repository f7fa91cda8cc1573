package boltstore

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// writeRaw builds a bbolt file by hand, as an older or newer build would
// have left it.
func writeRaw(t *testing.T, setup func(tx *bolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(setup); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readVersion(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v uint64
	err = db.View(func(tx *bolt.Tx) error {
		v, err = schemaVersion(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrate(t *testing.T) {
	user := []byte(`{"id":"u1","userName":"ada","active":true,"data":{},"version":1}`)
	tests := []struct {
		name      string
		setup     func(tx *bolt.Tx) error
		wantStats store.Stats
	}{
		{"empty file", func(*bolt.Tx) error { return nil }, store.Stats{}},
		{"meta without a version key", func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket(bucketMeta)
			return err
		}, store.Stats{}},
		{"version 0 with records and no counters", func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bucketUsers)
			if err != nil {
				return err
			}
			if err := b.Put([]byte("u1"), user); err != nil {
				return err
			}
			idx, err := tx.CreateBucket(bucketUserName)
			if err != nil {
				return err
			}
			return idx.Put([]byte("ada"), []byte("u1"))
		}, store.Stats{Users: 1}},
		{"current version", func(tx *bolt.Tx) error { return migrateAndStamp(tx) }, store.Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, tt.setup)
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			st, err := s.Stats(t.Context())
			if err != nil || st != tt.wantStats {
				t.Fatalf("Stats = %+v, %v; want %+v", st, err, tt.wantStats)
			}
			// The migrated file takes writes like a new one.
			if _, err := s.CreateUser(t.Context(), store.User{ID: "u2", UserName: "bob"}); err != nil {
				t.Fatalf("CreateUser after migration: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if v := readVersion(t, path); v != SchemaVersion {
				t.Fatalf("schema version after Open = %d, want %d", v, SchemaVersion)
			}
			checkFile(t, path)
		})
	}
}

// TestMigrateV1ToV2 opens a version 1 file, written here bucket by bucket
// as version 1 left it rather than by migrateV1, so that a change to the
// version 1 code cannot hide a break in the upgrade path.
func TestMigrateV1ToV2(t *testing.T) {
	ctx := t.Context()
	user := []byte(`{"id":"u1","userName":"ada","active":true,"data":{},"version":1}`)
	item := []byte(`{"key":"user/u1","due":"2030-01-01T00:00:00Z","gen":1,"attempts":0}`)
	due := u64(uint64(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()))
	path := writeRaw(t, func(tx *bolt.Tx) error {
		names := []string{"users", "groups", "idx_user_name", "idx_user_external", "idx_user_email",
			"idx_group_name", "idx_group_external", "member", "memberof", "queue", "queue_keys", "tokens", "meta"}
		for _, n := range names {
			if _, err := tx.CreateBucket([]byte(n)); err != nil {
				return err
			}
		}
		puts := []struct{ b, k, v []byte }{
			{[]byte("users"), []byte("u1"), user},
			{[]byte("idx_user_name"), []byte("ada"), []byte("u1")},
			{[]byte("queue"), append(slices.Clone(due), "user/u1"...), item},
			{[]byte("queue_keys"), []byte("user/u1"), append(slices.Clone(due), u64(1)...)},
			{[]byte("meta"), []byte("count_users"), u64(1)},
			{[]byte("meta"), []byte("count_groups"), u64(0)},
			{[]byte("meta"), []byte("count_queue"), u64(1)},
			{[]byte("meta"), []byte("schema_version"), u64(1)},
		}
		for _, p := range puts {
			if err := tx.Bucket(p.b).Put(p.k, p.v); err != nil {
				return err
			}
		}
		return nil
	})

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	if u, err := s.GetUser(ctx, "u1"); err != nil || u.UserName != "ada" {
		t.Fatalf("user after migration = %+v, %v", u, err)
	}
	if it, err := s.QueueItem(ctx, "user/u1"); err != nil || it.Gen != 1 {
		t.Fatalf("queue item after migration = %+v, %v", it, err)
	}
	if st, err := s.Stats(ctx); err != nil || st != (store.Stats{Users: 1, QueueDepth: 1}) {
		t.Fatalf("Stats after migration = %+v, %v", st, err)
	}
	if _, err := s.GetStatus(ctx, "user/u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetStatus in a migrated file: %v, want %v", err, store.ErrNotFound)
	}
	if err := s.PutStatus(ctx, "user/u1", []byte(`{"profile":"ada"}`)); err != nil {
		t.Fatalf("PutStatus after migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := readVersion(t, path); v != SchemaVersion {
		t.Fatalf("schema version after Open = %d, want %d", v, SchemaVersion)
	}
	checkFile(t, path)
}

// TestMigrateV2ToV3 upgrades a version 2 file: the sign-in buckets appear,
// empty, and the records already there are kept.
func TestMigrateV2ToV3(t *testing.T) {
	ctx := t.Context()
	path := writeRaw(t, func(tx *bolt.Tx) error {
		for _, m := range migrations[:2] {
			if err := m.apply(tx); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("sync_status")).Put([]byte("user/u1"), []byte("kept")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), u64(2))
	})
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of a version 2 file: %v", err)
	}
	if got, err := s.GetStatus(ctx, "user/u1"); err != nil || string(got) != "kept" {
		t.Fatalf("status record after migration = %q, %v", got, err)
	}
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys after migration = %v, %v", keys, err)
	}
	if err := s.MarkSeen(ctx, "id-1", time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("MarkSeen after migration: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := readVersion(t, path); v != 3 {
		t.Fatalf("schema version after Open = %d, want 3", v)
	}
	checkFile(t, path)
}

func migrateAndStamp(tx *bolt.Tx) error {
	_, err := migrate(tx)
	return err
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := writeRaw(t, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(metaSchemaVersion, u64(SchemaVersion+1))
	})
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer file: %v, want %v", err, ErrSchemaTooNew)
	}
	t.Logf("refusal reads: %v", err)
	// Refusing must leave the file as it was and release it.
	if v := readVersion(t, path); v != SchemaVersion+1 {
		t.Fatalf("version after refusal = %d, want %d", v, SchemaVersion+1)
	}
}

func TestOpenRefusesDamagedVersion(t *testing.T) {
	path := writeRaw(t, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(metaSchemaVersion, []byte("v1"))
	})
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("Open with a damaged schema version: no error")
	}
}

func TestMigrationsAreOrdered(t *testing.T) {
	prev := uint64(0)
	for _, m := range migrations {
		if m.to != prev+1 {
			t.Fatalf("migration %q goes to %d after %d: migrations must step by one", m.name, m.to, prev)
		}
		prev = m.to
	}
	if prev != SchemaVersion {
		t.Fatalf("migrations end at %d, SchemaVersion is %d", prev, SchemaVersion)
	}
}
