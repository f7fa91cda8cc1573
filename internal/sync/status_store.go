package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// NewStoreStatus returns the durable StatusStore: each Status is a status
// record of st under its key, encoded as JSON. The store keeps a user's
// record when the user is deleted, which is what lets the sync find and
// deprovision the profile after the user is gone.
func NewStoreStatus(st store.Store) StatusStore { return storeStatus{st} }

type storeStatus struct{ st store.Store }

func (s storeStatus) GetStatus(ctx context.Context, key string) (Status, bool, error) {
	data, err := s.st.GetStatus(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, err
	}
	st, err := decodeStatus(key, data)
	if err != nil {
		return Status{}, false, err
	}
	return st, true, nil
}

func (s storeStatus) PutStatus(ctx context.Context, st Status) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode status of %s: %w", st.Key, err)
	}
	return s.st.PutStatus(ctx, st.Key, data)
}

// DeleteStatus forgets key. A record already gone is what the caller
// wanted: a deprovisioning that is retried after its delete committed must
// not fail on the second try.
func (s storeStatus) DeleteStatus(ctx context.Context, key string) error {
	if err := s.st.DeleteStatus(ctx, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// ScanStatus pages through the store until it has limit records or none
// are left: a backend may cap its pages below limit, and a short result
// must mean the end, as StatusStore promises.
func (s storeStatus) ScanStatus(ctx context.Context, after string, limit int) ([]Status, error) {
	var out []Status
	for len(out) < limit {
		p, err := s.st.ScanStatus(ctx, after, limit-len(out))
		if err != nil {
			return nil, err
		}
		for _, r := range p.Items {
			st, err := decodeStatus(r.Key, r.Data)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
		if p.Next == "" || len(p.Items) == 0 {
			break
		}
		after = p.Next
	}
	return out, nil
}

// decodeStatus takes the key from the store, not from the record, so a
// record always answers to the key it is filed under.
func decodeStatus(key string, data []byte) (Status, error) {
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return Status{}, fmt.Errorf("decode status of %s: %w", key, err)
	}
	st.Key = key
	return st, nil
}
