package sync

import (
	"context"
	"maps"
	"slices"
	gosync "sync"
)

// MemStatus is a StatusStore in memory: a plan's scratch copy of the
// records, and tests' store when the records need not outlive the Syncer.
type MemStatus struct {
	mu gosync.Mutex
	m  map[string]Status
}

func NewMemStatus() *MemStatus { return &MemStatus{m: map[string]Status{}} }

func (s *MemStatus) GetStatus(_ context.Context, key string) (Status, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[key]
	return st, ok, nil
}

func (s *MemStatus) PutStatus(_ context.Context, st Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[st.Key] = st
	return nil
}

func (s *MemStatus) DeleteStatus(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *MemStatus) ScanStatus(_ context.Context, after string, limit int) ([]Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := slices.Sorted(maps.Keys(s.m))
	i, _ := slices.BinarySearch(keys, after)
	if i < len(keys) && keys[i] == after {
		i++
	}
	var out []Status
	for ; i < len(keys) && len(out) < limit; i++ {
		out = append(out, s.m[keys[i]])
	}
	return out, nil
}
