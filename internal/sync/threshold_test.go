package sync

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
)

func TestThreshold(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, tt := range []struct {
		name    string
		cfg     config.DeletionThreshold
		managed int
		allowed int // of 10 deletions in a row
		// counted is how often the managed resources are counted: only
		// while the percentage decides, so that once tripped a held
		// deletion costs no scan of the records.
		counted int
	}{
		{name: "count", cfg: config.DeletionThreshold{Count: 3, Window: config.Duration{Duration: time.Hour}}, allowed: 3},
		{name: "percent", cfg: config.DeletionThreshold{Count: 100, Percent: 10, Window: config.Duration{Duration: time.Hour}}, managed: 40, allowed: 4, counted: 5},
		{name: "count before percent", cfg: config.DeletionThreshold{Count: 2, Percent: 50, Window: config.Duration{Duration: time.Hour}}, managed: 40, allowed: 2, counted: 2},
		{name: "zero waits for every deletion", cfg: config.DeletionThreshold{Count: 0, Window: config.Duration{Duration: time.Hour}}, allowed: 0},
	} {
		m := NewMetrics(nil)
		th := newThreshold(tt.cfg, clock, m)
		got, counted := 0, 0
		managed := func() int { counted++; return tt.managed }
		for i := range 10 {
			if th.allow(fmt.Sprintf("user/%d", i), deleteProfile, managed, false) {
				got++
			}
		}
		if got != tt.allowed {
			t.Errorf("%s: allowed %d, want %d", tt.name, got, tt.allowed)
		}
		if counted != tt.counted {
			t.Errorf("%s: managed resources counted %d times, want %d", tt.name, counted, tt.counted)
		}
		if held := testutil.ToFloat64(m.DeletionsHeld); int(held) != 10-tt.allowed {
			t.Errorf("%s: deletions_held = %v", tt.name, held)
		}
	}
}

// none is a count of managed resources for thresholds without a percentage.
func none() int { return 0 }

func TestThresholdTripsUntilApproved(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThreshold(config.DeletionThreshold{Count: 1, Window: config.Duration{Duration: time.Hour}}, func() time.Time { return now }, NewMetrics(nil))
	if !th.allow("user/1", deleteProfile, none, false) || th.allow("user/2", deleteProfile, none, false) {
		t.Fatal("the second deletion in the window must be held")
	}
	// Tripped: even after the window, and even for another kind, deletions
	// wait for approval.
	now = now.Add(2 * time.Hour)
	if th.allow("team/x", deleteRole, none, false) {
		t.Fatal("a tripped threshold must hold every deletion")
	}
	th.approve([]string{"user/2"})
	if !th.allow("user/2", deleteProfile, none, false) {
		t.Error("an approved key must be allowed")
	}
	if th.allow("user/3", deleteProfile, none, false) {
		t.Error("team/x is still held: the threshold must stay tripped")
	}
	// An approval recorded in the key's status (by another process, or
	// before a restart) is as good as one made here.
	if !th.allow("team/x", deleteRole, none, true) || !th.allow("user/3", deleteProfile, none, true) {
		t.Fatal("a recorded approval must be allowed")
	}
	if n := testutil.ToFloat64(th.metrics.DeletionsHeld); n != 0 {
		t.Errorf("deletions_held = %v after every held key was approved", n)
	}
	if !th.allow("user/4", deleteProfile, none, false) {
		t.Error("after approving everything the threshold counts afresh")
	}
}

func TestClaims(t *testing.T) {
	c := newClaims()
	if err := c.claim(mapping.Claim{Owner: "1", UserID: "alice", ProfileName: "alice"}); err != nil {
		t.Fatal(err)
	}
	err := c.claim(mapping.Claim{Owner: "2", UserID: "Alice", ProfileName: "alice"})
	var col *mapping.Collision
	if !errors.As(err, &col) || col.Holder != "1" || col.Refused != "2" {
		t.Fatalf("second claim: %v", err)
	}
	if got := c.release("1"); fmt.Sprint(got) != "[user/2]" {
		t.Errorf("release returns the refused users to retry: %v", got)
	}
	if err := c.claim(mapping.Claim{Owner: "2", UserID: "alice", ProfileName: "alice"}); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// Bound profiles are claimed oldest binding first, whatever the key order.
func TestClaimsLoadOrder(t *testing.T) {
	ctx := context.Background()
	ss := NewMemStatus()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ss.PutStatus(ctx, Status{Key: "user/a", Profile: "bob", UserID: "bob", Bound: t0.Add(time.Hour)})
	ss.PutStatus(ctx, Status{Key: "user/b", Profile: "bob", UserID: "bob", Bound: t0})
	ss.PutStatus(ctx, Status{Key: "team/x"})
	c := newClaims()
	if err := c.load(ctx, ss); err != nil {
		t.Fatal(err)
	}
	err := c.claim(mapping.Claim{Owner: "a", UserID: "bob", ProfileName: "bob"})
	var col *mapping.Collision
	if !errors.As(err, &col) || col.Holder != "b" {
		t.Errorf("user/b bound first and must hold the name: %v", err)
	}
}

func TestMemStatusScan(t *testing.T) {
	ctx := context.Background()
	ss := NewMemStatus()
	for _, k := range []string{"group/1", "team/a", "user/1", "user/2", "user/3"} {
		ss.PutStatus(ctx, Status{Key: k})
	}
	var got []string
	scanStatus(ctx, ss, "user/", func(st Status) error { got = append(got, st.Key); return nil })
	if fmt.Sprint(got) != "[user/1 user/2 user/3]" {
		t.Errorf("scan user/ = %v", got)
	}
	page, _ := ss.ScanStatus(ctx, "team/a", 2)
	if len(page) != 2 || page[0].Key != "user/1" {
		t.Errorf("page after team/a = %v", page)
	}
}
