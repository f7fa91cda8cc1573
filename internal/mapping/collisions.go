package mapping

import (
	"fmt"
	"strings"
)

// Claim is one user's hold on a userId and a profile name. ProfileName is
// the name bound in the store when the user has a profile already, else
// Identity.ProfileName.
type Claim struct {
	Owner       string // the SCIM user id
	UserID      string
	ProfileName string
}

// Collision kinds.
const (
	KindUserID      = "userId"
	KindProfileName = "profileName"
)

// Collision is a claim refused because another user holds the value.
type Collision struct {
	Kind    string // KindUserID or KindProfileName
	Value   string
	Holder  string // the user that keeps the value
	Refused string // the user that is refused
}

func (c *Collision) Error() string {
	return fmt.Sprintf("%s %q of user %s is already held by user %s", c.Kind, c.Value, c.Refused, c.Holder)
}

// Is makes errors.Is(err, ErrCollision) true.
func (c *Collision) Is(target error) bool { return target == ErrCollision }

// Index records which user holds which userId and profile name. Values
// compare case-insensitively: AWS treats role and tag keys that way,
// SageMaker lowercases some ARNs, and two people told apart only by case
// would be told apart by nobody reading a report. Not safe for concurrent
// use; the sync owns one.
type Index struct {
	userIDs  map[string]string // folded userId -> owner
	profiles map[string]string // folded profile name -> owner
	claims   map[string]Claim  // owner -> its claim
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return &Index{userIDs: map[string]string{}, profiles: map[string]string{}, claims: map[string]Claim{}}
}

// Claim records c, replacing the owner's previous claim (a rename), unless
// another owner holds its userId or profile name: then nothing changes
// and the error is a *Collision naming both users. The first claim wins,
// so claims must come in a stable order, such as the users' creation order.
func (x *Index) Claim(c Claim) error {
	uid, pn := strings.ToLower(c.UserID), strings.ToLower(c.ProfileName)
	if h, ok := x.userIDs[uid]; ok && h != c.Owner {
		return &Collision{Kind: KindUserID, Value: c.UserID, Holder: h, Refused: c.Owner}
	}
	if h, ok := x.profiles[pn]; ok && h != c.Owner {
		return &Collision{Kind: KindProfileName, Value: c.ProfileName, Holder: h, Refused: c.Owner}
	}
	x.Release(c.Owner)
	x.userIDs[uid] = c.Owner
	x.profiles[pn] = c.Owner
	x.claims[c.Owner] = c
	return nil
}

// Release forgets the owner's claim (the user was deleted).
func (x *Index) Release(owner string) {
	old, ok := x.claims[owner]
	if !ok {
		return
	}
	delete(x.userIDs, strings.ToLower(old.UserID))
	delete(x.profiles, strings.ToLower(old.ProfileName))
	delete(x.claims, owner)
}

// Holder returns the owner of a userId, if any.
func (x *Index) Holder(userID string) (string, bool) {
	h, ok := x.userIDs[strings.ToLower(userID)]
	return h, ok
}

// DetectCollisions claims every entry in order and returns the refused
// ones. Order the claims by precedence (users with a bound profile first,
// then by creation time): the earlier claim keeps the value.
func DetectCollisions(claims []Claim) []Collision {
	x := NewIndex()
	var out []Collision
	for _, c := range claims {
		if err := x.Claim(c); err != nil {
			out = append(out, *err.(*Collision))
		}
	}
	return out
}
