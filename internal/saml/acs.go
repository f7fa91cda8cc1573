package saml

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/sagebridge/sagebridge/internal/store"
)

// serveACS is the assertion consumer service (HTTP-POST binding): the
// company IdP's Response comes in, a Response for AWS (or the team
// picker) goes out, or an error page with a reference.
func (b *Bridge) serveACS(w http.ResponseWriter, r *http.Request) {
	d := b.newDecision("idp", r)
	b.finish(w, r, d, b.acs(w, r, d))
}

func (b *Bridge) acs(w http.ResponseWriter, r *http.Request, d *decision) error {
	if err := parseForm(w, r, b.maxBody); err != nil {
		return err
	}
	up := b.upstream.get()
	if up == nil {
		return &refusal{reason: reasonNoMetadata, status: http.StatusServiceUnavailable, err: errors.New("the upstream IdP metadata is not loaded yet")}
	}
	exp := expectation{now: b.now()}
	// A login handle whose cookie is gone is no console URL to pass on.
	var relay string
	if rs := r.PostForm.Get("RelayState"); !handleRe.MatchString(rs) {
		relay = cleanRelayState(rs)
	}
	if st, ok := b.loginOf(w, r); ok {
		d.flow, exp.inResponseTo, relay = "sp", st.RequestID, st.RelayState
	} else if !b.cfg.SP.AllowIdPInitiated {
		return refuse(reasonUnsolicited, "no sign-in was started in this browser and IdP-initiated sign-in is off")
	}
	raw, err := decodeResponse(r.PostForm.Get("SAMLResponse"))
	if err != nil {
		return err
	}
	a, err := b.verifier.verify(raw, up, exp)
	if err != nil {
		return err
	}
	d.upstreamID = a.id
	// The assertion ID is claimed, and its record's flush to disk
	// started, before the user is looked up and the response signed, so
	// that the flush overlaps the RSA work. Nothing is sent before the
	// record is durable, and a replay is reported as one whatever else
	// went wrong.
	seen := b.markSeen(r.Context(), a)
	send, err := b.answer(r.Context(), d, a, relay)
	if serr := seen(); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	return send(w, r)
}

// markSeen records the assertion ID in the replay cache and returns what
// waits for the outcome. Only a verified assertion burns its ID, so that
// forged posts cannot block a real one; the ID stays recorded until the
// assertion could not pass the time check anyway.
func (b *Bridge) markSeen(ctx context.Context, a *assertion) func() error {
	id, expires := "assertion/"+a.id, a.expires().Add(b.cfg.SP.ClockSkew.Duration)
	// Started now and waited for only before answering: on one core a
	// goroutine running MarkSeen would run only once the signing is done.
	recorded := b.store.StartMarkSeen(ctx, id, expires)
	return func() error {
		err := recorded()
		switch {
		case errors.Is(err, store.ErrAlreadySeen):
			return refuse(reasonReplay, "assertion %s was used before", a.id)
		case err != nil:
			return fmt.Errorf("replay cache: %w", err)
		}
		return nil
	}
}

// answer finds and maps the user, and returns what to send: the signed
// response for AWS, or the team picker.
func (b *Bridge) answer(ctx context.Context, d *decision, a *assertion, relay string) (func(http.ResponseWriter, *http.Request) error, error) {
	subject, err := b.subjectOf(a)
	if err != nil {
		return nil, err
	}
	u, err := b.findUser(ctx, subject)
	if err != nil {
		return nil, err
	}
	d.userID, d.userName = u.ID, u.UserName
	id, err := b.identityOf(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(id.Teams) > 1 { // only under multiTeam choose
		return func(w http.ResponseWriter, _ *http.Request) error { return b.offerChoice(w, d, u, id, relay) }, nil
	}
	is, err := b.sign(d, &grant{nameID: u.ID, identity: id, team: id.Teams[0], relayState: relay})
	if err != nil {
		return nil, err
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		b.deliver(w, r, d, is)
		return nil
	}, nil
}

// sign builds and signs the response of a grant.
func (b *Bridge) sign(d *decision, g *grant) (*issued, error) {
	d.team, d.role = g.team.Name, g.team.SAMLRole
	return b.awsResponse(g)
}

// deliver answers with the form that posts the response to AWS.
func (b *Bridge) deliver(w http.ResponseWriter, r *http.Request, d *decision, is *issued) {
	d.result, d.reason, d.responseID = resultIssued, reasonNone, is.id
	if err := b.post.write(w, is); err != nil {
		// The page is half written: the decision stands, the browser left.
		b.log.WarnContext(r.Context(), "write sign-in form", "ref", d.ref, "err", err)
	}
}

// finish records the decision, and on error answers with the error page.
func (b *Bridge) finish(w http.ResponseWriter, r *http.Request, d *decision, err error) {
	if err != nil {
		var status int
		d.result, d.reason, status = classify(err)
		d.detail = err
		if werr := writeError(w, status, d.reason, d.ref); werr != nil {
			b.log.WarnContext(r.Context(), "write error page", "ref", d.ref, "err", werr)
		}
	}
	b.record(r.Context(), d)
}

func (b *Bridge) newDecision(flow string, r *http.Request) *decision {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return &decision{flow: flow, ref: b.newRef(), remote: host, startedTime: b.now()}
}

// parseForm reads a POSTed form of at most limit bytes.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	err := readPostForm(r, limit)
	if err == nil {
		err = r.ParseForm()
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &refusal{reason: reasonTooLarge, status: http.StatusRequestEntityTooLarge, err: fmt.Errorf("body over %d bytes", limit)}
		}
		return badRequest(reasonMalformed, "form: %w", err)
	}
	return nil
}

// readPostForm sets r.PostForm from a URL-encoded body, as ParseForm
// would, but reads the body into one buffer of the announced size rather
// than one grown from 512 bytes: a SAMLResponse is some 13 kB. ParseForm
// then adds the URL's query to r.Form as usual. Any other body is left to
// ParseForm.
func readPostForm(r *http.Request, limit int64) error {
	if r.PostForm != nil || r.Body == nil || r.Method != http.MethodPost {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil
	}
	size := r.ContentLength
	if size < 0 || size > limit {
		size = 512
	}
	b := make([]byte, 0, size+1) // +1: the read that finds EOF needs room
	for {
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	vs, err := url.ParseQuery(string(b))
	r.PostForm = vs
	return err
}

// decodeResponse decodes the SAMLResponse field. IdPs may wrap the base64
// in lines: the decoder skips CR and LF itself, and a field it refuses is
// tried again without any white space.
func decodeResponse(field string) ([]byte, error) {
	if field == "" {
		return nil, badRequest(reasonMalformed, "no SAMLResponse")
	}
	raw, err := base64.StdEncoding.DecodeString(field)
	if err != nil && strings.ContainsFunc(field, unicode.IsSpace) {
		raw, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(field), ""))
	}
	if err != nil {
		return nil, badRequest(reasonMalformed, "SAMLResponse is not base64: %w", err)
	}
	return raw, nil
}

// newRef is the reference shown on an error page and logged with the
// decision, so that a user's report finds the audit record.
func (b *Bridge) newRef() string {
	ref, err := randomToken(b.rand, 9)
	if err != nil {
		return fmt.Sprintf("t%d", b.now().UnixNano())
	}
	return ref
}
