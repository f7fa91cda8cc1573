package saml

import "time"

// KeyInfo describes a published signing key for operators: which one
// signs, which waits, and when each certificate expires.
type KeyInfo struct {
	ID string
	// State is "signing", "next" (published, signs from SignFrom) or
	// "previous" (replaced, still published while its assertions live).
	State    string
	SignFrom time.Time
	NotAfter time.Time
	FromFile bool
}

// Keys lists the keys the IdP metadata publishes, in signing order.
func (b *Bridge) Keys() []KeyInfo {
	cur, _ := b.keys.current()
	now := b.now()
	var out []KeyInfo
	for _, k := range b.keys.published() {
		state := "previous"
		switch {
		case k == cur:
			state = "signing"
		case k.signFrom.After(now):
			state = "next"
		}
		out = append(out, KeyInfo{ID: k.id, State: state, SignFrom: k.signFrom, NotAfter: k.cert.NotAfter, FromFile: b.keys.fromFiles})
	}
	return out
}
