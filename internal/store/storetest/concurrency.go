package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sagebridge/sagebridge/internal/store"
)

// run starts n goroutines and returns the error each one returned.
func run(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start) // release them together, so they really race
	wg.Wait()
	return errs
}

func testConcurrentCreates(t *testing.T, s store.Store) {
	const n = 50
	users := make([]store.User, n)
	for i := range users {
		users[i] = newUser(fmt.Sprintf("user-%02d", i))
	}
	errs := run(n, func(i int) error {
		_, err := s.CreateUser(t.Context(), users[i])
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreateUser(%s): %v", users[i].UserName, err)
		}
	}
	for _, u := range users {
		wantIDs(t, "lookup "+u.UserName, lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: u.UserName}), u.ID)
	}
	if st := stats(t, s); st.Users != n || st.QueueDepth != n {
		t.Fatalf("Stats = %+v, want %d users and %d queued", st, n, n)
	}
}

func testConcurrentUserNameRace(t *testing.T, s store.Store) {
	const n = 20
	users := make([]store.User, n)
	for i := range users {
		// Different cases of one name: all the same name to the index.
		name := "racer"
		if i%2 == 1 {
			name = strings.ToUpper(name)
		}
		users[i] = newUser(name)
	}
	errs := run(n, func(i int) error {
		_, err := s.CreateUser(t.Context(), users[i])
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("both %d and %d created the same userName", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("loser %d: got %v, want %v", i, err, store.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatal("nobody won the userName")
	}
	wantIDs(t, "lookup racer", lookupUsers(t, s, store.Lookup{Index: store.IndexUserName, Value: "Racer"}), users[winner].ID)
	if st := stats(t, s); st.Users != 1 {
		t.Fatalf("Stats.Users = %d, want 1", st.Users)
	}
}

func testConcurrentIncrements(t *testing.T, s store.Store) {
	const n = 20
	u := newUser("counter")
	u.Data = json.RawMessage(`{"n":0}`)
	u = createUser(t, s, u)
	errs := run(n, func(int) error {
		_, err := s.UpdateUser(t.Context(), u.ID, func(cur store.User) (store.User, error) {
			var d struct{ N int }
			if err := json.Unmarshal(cur.Data, &d); err != nil {
				return cur, err
			}
			d.N++
			data, err := json.Marshal(map[string]int{"n": d.N})
			cur.Data = data
			return cur, err
		})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("increment %d: %v", i, err)
		}
	}
	got := getUser(t, s, u.ID)
	var d struct{ N int }
	if err := json.Unmarshal(got.Data, &d); err != nil {
		t.Fatalf("decode data %s: %v", got.Data, err)
	}
	if d.N != n || got.Version != n+1 {
		t.Fatalf("after %d increments: n = %d, Version = %d; want n = %d, Version = %d", n, d.N, got.Version, n, n+1)
	}
}
