package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// checkFile opens a closed store file and checks bbolt's own consistency
// (tx.Check) and the store's invariants, the way bbolt's tests check every
// database they leave behind.
func checkFile(t testing.TB, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s for checking: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check: %w", err)
		}
		return checkInvariants(tx)
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkInvariants verifies what every write must keep true: the file has
// exactly the declared buckets, indexes match records, memberships mirror
// each other and name existing records, the queue's two buckets agree, and
// the counters equal the record counts.
func checkInvariants(tx *bolt.Tx) error {
	if err := checkLayout(tx); err != nil {
		return err
	}
	nameIdx := map[string]string{}
	extIdx := map[string]bool{}
	mailIdx := map[string]bool{}
	err := bucketUsers.in(tx).ForEach(func(k, v []byte) error {
		u, err := decodeUser(string(k), v)
		if err != nil {
			return err
		}
		if u.ID != string(k) {
			return fmt.Errorf("user under key %s has id %s", k, u.ID)
		}
		nameIdx[fold(u.UserName)] = u.ID
		if u.ExternalID != "" {
			extIdx[string(pairKey(u.ExternalID, u.ID))] = true
		}
		for _, e := range foldAll(u.Emails) {
			mailIdx[string(pairKey(e, u.ID))] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := sameUnique(bucketUserName.in(tx), nameIdx); err != nil {
		return fmt.Errorf("idx_user_name: %w", err)
	}
	if err := sameSet(bucketUserExternal.in(tx), extIdx); err != nil {
		return fmt.Errorf("idx_user_external: %w", err)
	}
	if err := sameSet(bucketUserEmail.in(tx), mailIdx); err != nil {
		return fmt.Errorf("idx_user_email: %w", err)
	}

	groupName := map[string]string{}
	groupExt := map[string]bool{}
	err = bucketGroups.in(tx).ForEach(func(k, v []byte) error {
		g, err := decodeGroup(string(k), v)
		if err != nil {
			return err
		}
		groupName[fold(g.DisplayName)] = g.ID
		if g.ExternalID != "" {
			groupExt[string(pairKey(g.ExternalID, g.ID))] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := sameUnique(bucketGroupName.in(tx), groupName); err != nil {
		return fmt.Errorf("idx_group_name: %w", err)
	}
	if err := sameSet(bucketGroupExternal.in(tx), groupExt); err != nil {
		return fmt.Errorf("idx_group_external: %w", err)
	}

	mirror := map[string]bool{}
	err = bucketMember.in(tx).ForEach(func(k, _ []byte) error {
		gid, uid, _ := splitPair(k)
		if !userExists(tx, uid) || bucketGroups.in(tx).Get([]byte(gid)) == nil {
			return fmt.Errorf("membership %s/%s names a missing record", gid, uid)
		}
		mirror[string(pairKey(uid, gid))] = true
		return nil
	})
	if err != nil {
		return err
	}
	if err := sameSet(bucketMemberOf.in(tx), mirror); err != nil {
		return fmt.Errorf("memberof does not mirror member: %w", err)
	}

	if err := checkQueue(tx); err != nil {
		return err
	}
	for _, c := range []struct {
		key []byte
		b   bucket
	}{{metaUsers, bucketUsers}, {metaGroups, bucketGroups}, {metaQueueDepth, bucketQueue}} {
		n, err := counter(bucketMeta.in(tx), c.key)
		if err != nil {
			return err
		}
		if want := uint64(c.b.in(tx).Stats().KeyN); n != want {
			return fmt.Errorf("counter %s = %d, bucket %s holds %d", c.key, n, c.b, want)
		}
	}
	return nil
}

// checkLayout catches a bucket used without being declared in schema.go
// (Open would not create it in a new file) and a declared one missing.
func checkLayout(tx *bolt.Tx) error {
	declared := map[string]bool{}
	for _, b := range allBuckets {
		declared[string(b)] = true
	}
	found := 0
	err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !declared[string(name)] {
			return fmt.Errorf("bucket %s is not declared in schema.go", name)
		}
		found++
		return nil
	})
	if err == nil && found != len(declared) {
		err = fmt.Errorf("file has %d of the %d declared buckets", found, len(declared))
	}
	return err
}

func checkQueue(tx *bolt.Tx) error {
	keys := bucketQueueKeys.in(tx)
	n := 0
	err := bucketQueue.in(tx).ForEach(func(k, v []byte) error {
		n++
		var it store.QueueItem
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("queue item %q: %w", k, err)
		}
		due, gen, ok, err := queueState(keys, it.Key)
		if err != nil || !ok {
			return fmt.Errorf("queue item %s has no queue_keys entry (%v)", it.Key, err)
		}
		if !bytes.Equal(k, queueKey(due, it.Key)) || gen != it.Gen || binary.BigEndian.Uint64(k) != dueNanos(it.Due) {
			return fmt.Errorf("queue item %s: key due/gen %d/%d disagree with queue_keys %d/%d", it.Key, binary.BigEndian.Uint64(k), it.Gen, due, gen)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if m := keys.Stats().KeyN; m != n {
		return fmt.Errorf("queue holds %d items, queue_keys %d", n, m)
	}
	return nil
}

func sameUnique(b *bolt.Bucket, want map[string]string) error {
	n := 0
	err := b.ForEach(func(k, v []byte) error {
		n++
		if want[string(k)] != string(v) {
			return fmt.Errorf("entry %q -> %s, records say %q", k, v, want[string(k)])
		}
		return nil
	})
	if err == nil && n != len(want) {
		err = fmt.Errorf("%d entries, %d records", n, len(want))
	}
	return err
}

func sameSet(b *bolt.Bucket, want map[string]bool) error {
	n := 0
	err := b.ForEach(func(k, _ []byte) error {
		n++
		if !want[string(k)] {
			return fmt.Errorf("stray entry %q", k)
		}
		return nil
	})
	if err == nil && n != len(want) {
		err = fmt.Errorf("%d entries, want %d", n, len(want))
	}
	return err
}
