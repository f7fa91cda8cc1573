package saml

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// The team picker. AWS applies one set of session tags to whatever role
// is picked on its own picker (ROLE-3), so a user in several teams picks
// here and gets an assertion with one role and that team's tags.
//
// The page carries a sealed token (user, RelayState, nonce) and the
// browser a SameSite=Strict cookie with the same nonce: a token lifted
// from the page is useless in another browser, a cross-site post carries
// no cookie, and the nonce is spent in the replay cache on first use.
const (
	chooseCookie  = "sagebridge_choose"
	chooseTTL     = 5 * time.Minute
	maxChooseBody = 8 << 10
)

type chooseState struct {
	UserID     string `json:"u"`
	RelayState string `json:"rs,omitempty"`
	Nonce      string `json:"n"`
}

func (b *Bridge) offerChoice(w http.ResponseWriter, d *decision, u store.User, id mapping.Identity, relay string) error {
	nonce, err := randomToken(b.rand, 16)
	if err != nil {
		return err
	}
	tok, err := b.sealer.seal("choose", chooseState{UserID: u.ID, RelayState: relay, Nonce: nonce}, b.now().Add(chooseTTL))
	if err != nil {
		return err
	}
	http.SetCookie(w, b.cookie(chooseCookie, nonce, choosePath, int(chooseTTL/time.Second), false))
	d.result, d.reason = resultChoose, reasonNone
	if err := writeChoose(w, choosePath, tok, id.Teams); err != nil {
		return fmt.Errorf("write team picker: %w", err)
	}
	return nil
}

// serveChoose takes the picked team and signs the user in to it.
func (b *Bridge) serveChoose(w http.ResponseWriter, r *http.Request) {
	d := b.newDecision("choose", r)
	b.finish(w, r, d, b.choose(w, r, d))
}

func (b *Bridge) choose(w http.ResponseWriter, r *http.Request, d *decision) error {
	if err := parseForm(w, r, maxChooseBody); err != nil {
		return err
	}
	now := b.now()
	var st chooseState
	if err := b.sealer.open("choose", r.PostForm.Get("token"), now, &st); err != nil {
		return refuse(reasonBadChoice, "picker token: %w", err)
	}
	d.userID = st.UserID
	c, err := r.Cookie(chooseCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(st.Nonce)) != 1 {
		return refuse(reasonBadChoice, "the picker was shown to another browser")
	}
	http.SetCookie(w, b.cookie(chooseCookie, "", choosePath, -1, false))
	// The user is read and mapped again: a deactivation or a team change
	// since the picker was shown counts.
	u, err := b.activeUser(r.Context(), st.UserID)
	if err != nil {
		return err
	}
	d.userName = u.UserName
	id, err := b.identityOf(r.Context(), u)
	if err != nil {
		return err
	}
	name := r.PostForm.Get("team")
	var team *mapping.TeamIdentity
	for i := range id.Teams {
		if id.Teams[i].Name == name {
			team = &id.Teams[i]
		}
	}
	if team == nil {
		return refuse(reasonBadChoice, "team %q is not one of the user's teams", name)
	}
	err = b.store.MarkSeen(r.Context(), "choose/"+st.Nonce, now.Add(chooseTTL))
	if errors.Is(err, store.ErrAlreadySeen) {
		return refuse(reasonReplay, "picker token used before")
	}
	if err != nil {
		return fmt.Errorf("replay cache: %w", err)
	}
	is, err := b.sign(d, &grant{nameID: u.ID, identity: id, team: *team, relayState: st.RelayState})
	if err != nil {
		return err
	}
	b.deliver(w, r, d, is)
	return nil
}
