// Package statuspage renders the admin listener's read-only status page:
// the sync's summary, users and teams with their sync state and last
// error, conflicts, deletions waiting for approval, and credentials with
// their age and expiry. Server-rendered HTML with no script, so it works
// with no build step and under a strict Content-Security-Policy.
package statuspage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// PageSize is how many users one page lists.
const PageSize = 100

// Store is the part of the store the page reads.
type Store interface {
	UserIDs(ctx context.Context, offset, limit int) ([]string, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	Tokens(ctx context.Context) ([]store.Token, error)
}

// Records is the part of the sync's status records the page reads.
type Records interface {
	GetStatus(ctx context.Context, key string) (bridgesync.Status, bool, error)
	ScanStatus(ctx context.Context, after string, limit int) ([]bridgesync.Status, error)
}

// Credential is a key or token whose age and expiry an operator watches.
type Credential struct {
	Kind    string // "SCIM token", "SAML signing key", ...
	Name    string
	Created time.Time
	// Expires is zero when the credential does not expire.
	Expires time.Time
	// Note says what the credential is doing now ("signing", "published,
	// signs from ...").
	Note string
}

// Options are what the page reads. Summary is the sync's (nil when the
// daemon keeps no AWS account in sync); Credentials, if set, adds keys
// beyond the SCIM tokens.
type Options struct {
	Store       Store
	Records     Records
	Summary     func(ctx context.Context) (control.Summary, error)
	Credentials func(ctx context.Context) ([]Credential, error)
	Logger      *slog.Logger
	Now         func() time.Time
	// ExpiryWarning is how far ahead an expiry is shown as a warning.
	ExpiryWarning time.Duration
}

//go:embed templates/*.html style.css
var files embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return now.Sub(t).Truncate(time.Second).String() + " ago"
	},
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
}).ParseFS(files, "templates/*.html"))

// Handler serves the page under /status/.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ExpiryWarning == 0 {
		o.ExpiryWarning = 30 * 24 * time.Hour
	}
	p := &page{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status/{$}", p.overview)
	mux.HandleFunc("GET /status/users", p.users)
	mux.HandleFunc("GET /status/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		http.ServeFileFS(w, r, files, "style.css")
	})
	return mux
}

type page struct{ o Options }

// overviewData is the overview template's input.
type overviewData struct {
	Now         time.Time
	Summary     *control.Summary
	SyncError   string
	States      []stateCount
	Teams       []bridgesync.Status
	Credentials []credentialRow
}

type stateCount struct {
	Kind, State string
	Count       int
}

type credentialRow struct {
	Credential
	Warn bool
}

// maxTeams bounds the team list: teams are few, but the page must stay
// cheap whatever the records hold.
const maxTeams = 1000

func (p *page) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := overviewData{Now: p.o.Now()}
	if p.o.Summary != nil {
		sum, err := p.o.Summary(ctx)
		if err != nil {
			d.SyncError = err.Error()
		} else {
			d.Summary = &sum
			d.States = stateCounts(sum.States)
		}
	} else {
		d.SyncError = "the daemon keeps no AWS account in sync"
	}
	teams, err := p.teams(ctx)
	if err != nil {
		p.fail(w, r, "read the teams' sync records", err)
		return
	}
	d.Teams = teams
	if d.Credentials, err = p.credentials(ctx, d.Now); err != nil {
		p.fail(w, r, "read the credentials", err)
		return
	}
	p.render(w, r, "overview.html", d)
}

func stateCounts(states map[string]map[string]int) []stateCount {
	var out []stateCount
	for _, kind := range []string{"saml", "team", "group", "user"} {
		for _, state := range []string{bridgesync.StateConverged, bridgesync.StatePending, bridgesync.StateSuspended,
			bridgesync.StateDeleting, bridgesync.StateDeleted, bridgesync.StateHeld, bridgesync.StateConflict, bridgesync.StateFailed} {
			if n := states[kind][state]; n > 0 {
				out = append(out, stateCount{Kind: kind, State: state, Count: n})
			}
		}
	}
	return out
}

func (p *page) teams(ctx context.Context) ([]bridgesync.Status, error) {
	prefix := bridgesync.TeamKey("")
	var out []bridgesync.Status
	for after := prefix; len(out) < maxTeams; {
		batch, err := p.o.Records.ScanStatus(ctx, after, 200)
		if err != nil {
			return nil, err
		}
		for _, st := range batch {
			if !strings.HasPrefix(st.Key, prefix) {
				return out, nil
			}
			out = append(out, st)
		}
		if len(batch) < 200 {
			return out, nil
		}
		after = batch[len(batch)-1].Key
	}
	return out, nil
}

func (p *page) credentials(ctx context.Context, now time.Time) ([]credentialRow, error) {
	tokens, err := p.o.Store.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	var creds []Credential
	for _, t := range tokens {
		creds = append(creds, Credential{Kind: "SCIM token", Name: t.Name, Created: t.Created})
	}
	if p.o.Credentials != nil {
		more, err := p.o.Credentials(ctx)
		if err != nil {
			return nil, err
		}
		creds = append(creds, more...)
	}
	rows := make([]credentialRow, len(creds))
	for i, c := range creds {
		rows[i] = credentialRow{Credential: c, Warn: !c.Expires.IsZero() && c.Expires.Sub(now) < p.o.ExpiryWarning}
	}
	return rows, nil
}

// usersData is the users template's input.
type usersData struct {
	Now              time.Time
	Offset, PageSize int
	Prev, Next       int
	HasPrev, HasNext bool
	Rows             []userRow
}

type userRow struct {
	ID, UserName string
	Active       bool
	Record       bridgesync.Status
	Recorded     bool
}

func (p *page) users(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	offset := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("offset: must be a whole number of users, 0 or more, got %q", v), http.StatusBadRequest)
			return
		}
		offset = n
	}
	// One more than a page tells whether there is a next one.
	ids, err := p.o.Store.UserIDs(ctx, offset, PageSize+1)
	if err != nil {
		p.fail(w, r, "list users", err)
		return
	}
	d := usersData{Now: p.o.Now(), Offset: offset, PageSize: PageSize, HasPrev: offset > 0,
		Prev: max(0, offset-PageSize), Next: offset + PageSize, HasNext: len(ids) > PageSize}
	for _, id := range ids[:min(len(ids), PageSize)] {
		u, err := p.o.Store.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			p.fail(w, r, "read user "+id, err)
			return
		}
		row := userRow{ID: u.ID, UserName: u.UserName, Active: u.Active}
		if row.Record, row.Recorded, err = p.o.Records.GetStatus(ctx, store.UserKey(id)); err != nil {
			p.fail(w, r, "read the sync record of user "+id, err)
			return
		}
		d.Rows = append(d.Rows, row)
	}
	p.render(w, r, "users.html", d)
}

func (p *page) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		p.fail(w, r, "render "+name, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	fmt.Fprint(w, b.String())
}

func (p *page) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.o.Logger.ErrorContext(r.Context(), "status page", "step", what, "err", err)
	http.Error(w, "status page: "+what+": "+err.Error(), http.StatusInternalServerError)
}
