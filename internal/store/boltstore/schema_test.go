package boltstore

import (
	"errors"
	"path/filepath"
	"testing"

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
