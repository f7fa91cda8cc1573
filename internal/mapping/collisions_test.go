package mapping

import (
	"errors"
	"reflect"
	"testing"
)

func TestIndex(t *testing.T) {
	x := NewIndex()
	if err := x.Claim(Claim{Owner: "u1", UserID: "jane", ProfileName: "jane"}); err != nil {
		t.Fatal(err)
	}
	// Same owner again, and a rename that keeps the bound profile name.
	if err := x.Claim(Claim{Owner: "u1", UserID: "jane", ProfileName: "jane"}); err != nil {
		t.Fatal(err)
	}
	if err := x.Claim(Claim{Owner: "u1", UserID: "jane-smith", ProfileName: "jane"}); err != nil {
		t.Fatal(err)
	}
	// The old userId is free again; the profile name is not.
	if err := x.Claim(Claim{Owner: "u2", UserID: "jane", ProfileName: "jane-2"}); err != nil {
		t.Errorf("old userId still held: %v", err)
	}
	err := x.Claim(Claim{Owner: "u3", UserID: "x", ProfileName: "JANE"})
	var c *Collision
	if !errors.Is(err, ErrCollision) || !errors.As(err, &c) ||
		*c != (Collision{Kind: KindProfileName, Value: "JANE", Holder: "u1", Refused: "u3"}) {
		t.Fatalf("err = %v", err)
	}
	err = x.Claim(Claim{Owner: "u3", UserID: "Jane-Smith", ProfileName: "other"})
	if !errors.As(err, &c) || c.Kind != KindUserID || c.Holder != "u1" {
		t.Fatalf("err = %v", err)
	}
	// A refused claim changes nothing.
	if h, ok := x.Holder("other"); ok {
		t.Errorf("refused claim recorded for %s", h)
	}
	x.Release("u1")
	if err := x.Claim(Claim{Owner: "u3", UserID: "jane-smith", ProfileName: "jane"}); err != nil {
		t.Errorf("after Release: %v", err)
	}
	if h, _ := x.Holder("JANE-SMITH"); h != "u3" {
		t.Errorf("Holder = %q", h)
	}
}

func TestDetectCollisions(t *testing.T) {
	got := DetectCollisions([]Claim{
		{Owner: "a", UserID: "jdoe", ProfileName: "jdoe"},
		{Owner: "b", UserID: "jdoe", ProfileName: "jdoe"}, // same person name, different user
		{Owner: "c", UserID: "c", ProfileName: "c"},
		{Owner: "d", UserID: "d", ProfileName: "c"}, // userId free, bound profile name taken
	})
	want := []Collision{
		{Kind: KindUserID, Value: "jdoe", Holder: "a", Refused: "b"},
		{Kind: KindProfileName, Value: "c", Holder: "c", Refused: "d"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got := DetectCollisions(nil); got != nil {
		t.Errorf("no claims: %v", got)
	}
}
