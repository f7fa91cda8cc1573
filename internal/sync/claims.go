package sync

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	gosync "sync"

	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// claims guards the mapping's collision index: which user holds which
// userId and profile name. The first claim wins; a refused user is
// remembered under the holder so that it is enqueued again when the holder
// lets go (its profile deleted), instead of staying refused forever.
type claims struct {
	mu      gosync.Mutex
	idx     *mapping.Index
	refused map[string]map[string]bool // holder -> refused user ids
}

func newClaims() *claims {
	return &claims{idx: mapping.NewIndex(), refused: map[string]map[string]bool{}}
}

// claim records c or returns the *mapping.Collision that refuses it.
func (c *claims) claim(cl mapping.Claim) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.idx.Claim(cl)
	var col *mapping.Collision
	if errors.As(err, &col) {
		if c.refused[col.Holder] == nil {
			c.refused[col.Holder] = map[string]bool{}
		}
		c.refused[col.Holder][col.Refused] = true
	}
	return err
}

// release forgets the owner's claim and returns the queue keys of the
// users it had refused.
func (c *claims) release(owner string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idx.Release(owner)
	var keys []string
	for _, id := range slices.Sorted(maps.Keys(c.refused[owner])) {
		keys = append(keys, store.UserKey(id))
	}
	delete(c.refused, owner)
	return keys
}

// load claims every bound profile recorded in the status store, oldest
// binding first, so that after a restart the users that already have a
// profile keep their names whatever order the queue runs in.
func (c *claims) load(ctx context.Context, ss statusReader) error {
	var bound []Status
	err := scanStatus(ctx, ss, kindUser+"/", func(st Status) error {
		if st.Profile != "" {
			bound = append(bound, st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(bound, func(a, b Status) int {
		if c := a.Bound.Compare(b.Bound); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, st := range bound {
		id := strings.TrimPrefix(st.Key, kindUser+"/")
		uid := st.UserID
		if uid == "" {
			uid = st.Profile
		}
		// A collision among recorded bindings cannot be settled here; the
		// user's next reconcile reports it.
		_ = c.claim(mapping.Claim{Owner: id, UserID: uid, ProfileName: st.Profile})
	}
	return nil
}
