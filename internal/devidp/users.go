package devidp

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// maxListed bounds the users page: dev mode has a handful.
const maxListed = 200

// userRow is one line of the users page.
type userRow struct {
	UserName string
	Active   bool
	// Team names the user's teams, or says why the user has none.
	Team string
}

func (p *IdP) serveUsers(w http.ResponseWriter, r *http.Request) {
	p.renderUsers(w, r, request{})
}

// renderUsers shows the users page; each sign-in form carries req.
func (p *IdP) renderUsers(w http.ResponseWriter, r *http.Request, req request) {
	rows, more, err := p.users(r.Context())
	if err != nil {
		p.o.Logger.ErrorContext(r.Context(), "dev IdP users page", "err", err)
		http.Error(w, "could not list the users", http.StatusInternalServerError)
		return
	}
	pageHeaders(w, cspNoScript)
	err = usersTemplate.Execute(w, struct {
		Title, SignIn string
		Request       request
		Users         []userRow
		More          bool
	}{"sagebridge dev sign-in", SignInPath, req, rows, more})
	if err != nil {
		p.o.Logger.WarnContext(r.Context(), "write dev IdP users page", "err", err)
	}
}

// users reads the first maxListed users and their teams.
func (p *IdP) users(ctx context.Context) ([]userRow, bool, error) {
	page, err := p.o.Store.ScanUsers(ctx, "", maxListed)
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", err)
	}
	rows := make([]userRow, 0, len(page.Items))
	for _, u := range page.Items {
		team, err := p.teamOf(ctx, u)
		if err != nil {
			return nil, false, err
		}
		rows = append(rows, userRow{UserName: u.UserName, Active: u.Active, Team: team})
	}
	return rows, page.Next != "", nil
}

// teamOf maps the user as the bridge will, and names its teams.
func (p *IdP) teamOf(ctx context.Context, u store.User) (string, error) {
	groups, err := p.o.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return "", err
	}
	id, err := mapping.Resolve(p.o.Mapping, u, groups)
	if err != nil {
		return "none: " + err.Error(), nil
	}
	names := make([]string, len(id.Teams))
	for i, t := range id.Teams {
		names[i] = t.Name
	}
	return strings.Join(names, ", "), nil
}
