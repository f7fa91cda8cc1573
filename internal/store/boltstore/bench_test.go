package boltstore

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Preloaded stores are built once per test binary and shared by every run
// of a benchmark: the testing package calls a benchmark function several
// times (growing b.N), and -benchtime runs must measure the operation, not
// the preload. TestMain closes them and removes their directory.

type preload struct {
	once  sync.Once
	s     *Store
	users []store.User
	group store.Group
	took  time.Duration
	err   error
}

var (
	preloadDir  string
	lookupStore preload // 100,000 users
	memberStore preload // one group of 50,000 members
	// freshUsers numbers the users BenchmarkAddMember adds, so that names
	// stay unique across its runs.
	freshUsers atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range []*preload{&lookupStore, &memberStore} {
		if p.s != nil {
			_ = p.s.Close()
		}
	}
	if preloadDir != "" {
		_ = os.RemoveAll(preloadDir)
	}
	os.Exit(code)
}

func (p *preload) get(b *testing.B, name string, build func(s *Store) error) *Store {
	b.Helper()
	p.once.Do(func() {
		start := time.Now()
		if preloadDir == "" {
			if preloadDir, p.err = os.MkdirTemp("", "boltstore-bench-"); p.err != nil {
				return
			}
		}
		if p.s, p.err = Open(filepath.Join(preloadDir, name+".db"), Options{}); p.err != nil {
			return
		}
		p.err = build(p.s)
		p.took = time.Since(start)
	})
	if p.err != nil {
		b.Fatalf("preload %s: %v", name, p.err)
	}
	return p.s
}

func benchUsers(n int) []store.User {
	users := make([]store.User, n)
	for i := range users {
		users[i] = benchUser(i)
	}
	return users
}

// runWriters splits b.N calls of op over the given number of goroutines
// and reports the rate, which for writers is what the commit path is
// about: its throughput under that much concurrency.
func runWriters(b *testing.B, writers int, op func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := op(i); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

// BenchmarkCreateUser measures durable creates into a fresh file: one
// client at a time (an IdP provisioning serially) and 32 at once.
func BenchmarkCreateUser(b *testing.B) {
	for _, writers := range []int{1, 32} {
		name := "serial"
		if writers > 1 {
			name = fmt.Sprintf("parallel%d", writers)
		}
		b.Run(name, func(b *testing.B) {
			s := newTestStore(b)
			users := make([]store.User, b.N)
			for i := range users {
				users[i] = benchUser(i)
			}
			runWriters(b, writers, func(i int) error {
				_, err := s.CreateUser(b.Context(), users[i])
				return err
			})
		})
	}
}

// BenchmarkLookupUserName looks users up by userName among 100,000, with
// and without reading the record the index points to.
func BenchmarkLookupUserName(b *testing.B) {
	s := lookupStore.get(b, "lookup", func(s *Store) error {
		var err error
		lookupStore.users, err = bulkCreateUsers(s, benchUsers(100_000))
		return err
	})
	b.Logf("preload: %d users in %v", len(lookupStore.users), lookupStore.took.Round(time.Millisecond))
	users := lookupStore.users
	for _, get := range []bool{false, true} {
		name := "index"
		if get {
			name = "index+get"
		}
		b.Run(name, func(b *testing.B) {
			ctx := b.Context()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				u := users[(i*7919)%len(users)]
				ids, err := s.LookupUsers(ctx, store.Lookup{Index: store.IndexUserName, Value: u.UserName})
				if err != nil || len(ids) != 1 || ids[0] != u.ID {
					b.Fatalf("lookup %s = %v, %v", u.UserName, ids, err)
				}
				if get {
					if _, err := s.GetUser(ctx, ids[0]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
		})
	}
}

// BenchmarkAddMember adds one member at a time to a group that already
// holds 50,000: the cost must not grow with the group.
func BenchmarkAddMember(b *testing.B) {
	s := memberStore.get(b, "member", func(s *Store) error {
		users, err := bulkCreateUsers(s, benchUsers(50_000))
		if err != nil {
			return err
		}
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		memberStore.group, err = bulkCreateGroup(s, store.Group{ID: uuid(), DisplayName: "everyone"}, ids)
		return err
	})
	b.Logf("preload: group of 50,000 in %v", memberStore.took.Round(time.Millisecond))
	groupID := memberStore.group.ID
	for _, writers := range []int{1, 32} {
		name := "serial"
		if writers > 1 {
			name = fmt.Sprintf("parallel%d", writers)
		}
		b.Run(name, func(b *testing.B) {
			// Users to add, made outside the timed part.
			first := int(freshUsers.Add(int64(b.N))) - b.N
			fresh := make([]store.User, b.N)
			for i := range fresh {
				fresh[i] = benchUser(1_000_000 + first + i)
			}
			fresh, err := bulkCreateUsers(s, fresh)
			if err != nil {
				b.Fatal(err)
			}
			runWriters(b, writers, func(i int) error {
				_, err := s.UpdateGroup(b.Context(), groupID, func(store.Group) (store.GroupChange, error) {
					return store.GroupChange{Add: []string{fresh[i].ID}}, nil
				})
				return err
			})
		})
	}
}
