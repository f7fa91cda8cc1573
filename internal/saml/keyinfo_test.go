package saml

import (
	"fmt"
	"testing"
	"time"
)

func TestKeysFollowTheRotation(t *testing.T) {
	e := newEnv(t, envOptions{storedKeys: true})
	delay := e.cfg.SAML.IdP.Keys.RotationDelay.Duration
	if _, err := e.b.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		at   time.Duration
		want string
	}{
		{0, "[1 signing 2 next]"},
		{delay, "[1 previous 2 signing]"},
		{delay + e.b.keys.grace + time.Second, "[2 signing]"},
	} {
		e.clock.set(t0.Add(s.at))
		var got []string
		for _, k := range e.b.Keys() {
			if k.NotAfter.Before(t0) || k.FromFile {
				t.Errorf("key %s: NotAfter %v, FromFile %v", k.ID, k.NotAfter, k.FromFile)
			}
			got = append(got, k.ID, k.State)
		}
		if fmt.Sprint(got) != s.want {
			t.Errorf("at +%s: keys %v, want %s", s.at, got, s.want)
		}
	}
}
