package sync

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// fakeSpaces lists one space per profile of owners, counting listings;
// a listing waits for release when gate is set, after saying so on entered.
type fakeSpaces struct {
	owners  []string
	lists   atomic.Int32
	fail    atomic.Bool
	gate    bool
	entered chan struct{}
	release chan struct{}
}

func newFakeSpaces(gate bool, owners ...string) *fakeSpaces {
	return &fakeSpaces{owners: owners, gate: gate, entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (f *fakeSpaces) list(context.Context) (map[string][]smtypes.SpaceDetails, error) {
	f.lists.Add(1)
	if f.gate {
		f.entered <- struct{}{}
		<-f.release
	}
	if f.fail.Load() {
		return nil, errors.New("ListSpaces: service unavailable")
	}
	out := map[string][]smtypes.SpaceDetails{}
	for _, o := range f.owners {
		out[o] = []smtypes.SpaceDetails{{SpaceName: sdkaws.String(o + "-space")}}
	}
	return out, nil
}

func ownedNames(t *testing.T, x *spaceIndex, ctx context.Context, profile string) []string {
	t.Helper()
	spaces, err := x.owned(ctx, profile)
	if err != nil {
		t.Fatalf("owned(%s): %v", profile, err)
	}
	var names []string
	for _, sp := range spaces {
		names = append(names, sdkaws.ToString(sp.SpaceName))
	}
	return names
}

func TestSpaceIndexServesEachPassAFreshEnoughListing(t *testing.T) {
	f := newFakeSpaces(false, "p", "q")
	x := newSpaceIndex(f.list)
	ctx := t.Context()
	if got := ownedNames(t, x, ctx, "p"); len(got) != 1 || got[0] != "p-space" {
		t.Fatalf("p owns %q", got)
	}
	ownedNames(t, x, ctx, "q")
	ownedNames(t, x, ctx, "r")
	if n := f.lists.Load(); n != 1 {
		t.Fatalf("%d listings for three first passes, want 1", n)
	}
	// p's pass ended: its next pass needs a listing made after; q's
	// first pass has not ended and shares what there is.
	x.passed("p")
	ownedNames(t, x, ctx, "q")
	if n := f.lists.Load(); n != 1 {
		t.Fatalf("%d listings, want 1: q's pass could share", n)
	}
	ownedNames(t, x, ctx, "p")
	if n := f.lists.Load(); n != 2 {
		t.Fatalf("%d listings, want 2: p's second pass needs its own", n)
	}
	// Two passes that ended before one listing started share it.
	x.passed("p")
	x.passed("q")
	ownedNames(t, x, ctx, "q")
	ownedNames(t, x, ctx, "p")
	if n := f.lists.Load(); n != 3 {
		t.Fatalf("%d listings, want 3: p's and q's next passes share one", n)
	}
}

func TestSpaceIndexWaitsForTheListingUnderWay(t *testing.T) {
	f := newFakeSpaces(true, "p", "q")
	x := newSpaceIndex(f.list)
	ctx := t.Context()
	first := make(chan []string)
	go func() {
		spaces, _ := x.owned(ctx, "p")
		first <- []string{sdkaws.ToString(spaces[0].SpaceName)}
	}()
	<-f.entered

	// A caller that gives up while the listing runs gets its context's
	// error, and the listing goes on for the others.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := x.owned(canceled, "q"); !errors.Is(err, context.Canceled) {
		t.Fatalf("owned with a canceled context: %v", err)
	}
	// A pass that ends while the listing runs is not served by it.
	x.passed("q")
	second := make(chan []string)
	go func() {
		spaces, _ := x.owned(ctx, "q")
		second <- []string{sdkaws.ToString(spaces[0].SpaceName)}
	}()
	close(f.release)
	if got := <-first; got[0] != "p-space" {
		t.Fatalf("p owns %q", got)
	}
	if got := <-second; got[0] != "q-space" {
		t.Fatalf("q owns %q", got)
	}
	if n := f.lists.Load(); n != 2 {
		t.Fatalf("%d listings, want 2: q's pass ended after the first started", n)
	}
}

func TestSpaceIndexListingFails(t *testing.T) {
	f := newFakeSpaces(false, "p")
	f.fail.Store(true)
	x := newSpaceIndex(f.list)
	if _, err := x.owned(t.Context(), "p"); err == nil {
		t.Fatal("a failed listing is no answer")
	}
	f.fail.Store(false)
	if got := ownedNames(t, x, t.Context(), "p"); len(got) != 1 {
		t.Fatalf("after the failure p owns %q", got)
	}
	if n := f.lists.Load(); n != 2 {
		t.Fatalf("%d listings, want 2", n)
	}
}
