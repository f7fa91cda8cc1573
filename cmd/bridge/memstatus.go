package main

import (
	"context"
	"maps"
	"slices"
	gosync "sync"

	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// memStatus is a StatusStore in memory: the copy of the status records a
// plan's dry run may change without touching the real ones.
type memStatus struct {
	mu gosync.Mutex
	m  map[string]bridgesync.Status
}

func (s *memStatus) GetStatus(_ context.Context, key string) (bridgesync.Status, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[key]
	return st, ok, nil
}

func (s *memStatus) PutStatus(_ context.Context, st bridgesync.Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[st.Key] = st
	return nil
}

func (s *memStatus) DeleteStatus(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memStatus) ScanStatus(_ context.Context, after string, limit int) ([]bridgesync.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bridgesync.Status
	for _, k := range slices.Sorted(maps.Keys(s.m)) {
		if len(out) == limit {
			break
		}
		if k > after {
			out = append(out, s.m[k])
		}
	}
	return out, nil
}

var _ bridgesync.StatusStore = (*memStatus)(nil)
