package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Listen creates the control socket, readable and writable by the owner
// only. A stale socket left by a killed daemon is removed first; a live one
// means another daemon owns the data directory.
func Listen(path string) (net.Listener, error) {
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another daemon is serving this data directory", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale control socket: %w", err)
	}
	// The umask closes the window between bind and chmod in which another
	// user could connect.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod control socket: %w", err)
	}
	return ln, nil
}

// Handler serves a, s and k on the control socket. s is nil for a daemon
// that keeps no AWS account in sync and k for one that bridges no sign-in:
// use SyncDisabled and KeysDisabled to say why.
func Handler(a Admin, s Sync, k Keys) http.Handler {
	if s == nil {
		s = SyncDisabled("the daemon was started without a sync engine")
	}
	if k == nil {
		k = KeysDisabled("the daemon was started without sign-in")
	}
	mux := http.NewServeMux()
	mountSync(mux, s)
	mountKeys(mux, k)
	mux.HandleFunc("POST /tokens/{name}", func(w http.ResponseWriter, r *http.Request) {
		secret, err := a.CreateToken(r.Context(), r.PathValue("name"))
		respond(w, map[string]string{"token": secret}, err)
	})
	mux.HandleFunc("GET /tokens", func(w http.ResponseWriter, r *http.Request) {
		tokens, err := a.Tokens(r.Context())
		respond(w, tokens, err)
	})
	mux.HandleFunc("DELETE /tokens/{name}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, map[string]string{}, a.RevokeToken(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		// Once streaming has begun the status is sent; a failure then shows
		// as a short body, which the client detects by the trailer.
		w.Header().Set("Trailer", "X-Backup-Error")
		if _, err := a.Backup(r.Context(), w); err != nil {
			w.Header().Set("X-Backup-Error", err.Error())
		}
	})
	return mux
}

type errorBody struct {
	Error string `json:"error"`
	Kind  string `json:"kind,omitempty"`
}

// Errors keep their kind across the socket so that the CLI can tell "no
// such token" from a failure.
var kinds = map[string]error{
	"not_found": store.ErrNotFound, "conflict": store.ErrConflict, "invalid_name": ErrInvalidName,
	"sync_disabled": ErrSyncDisabled, "bad_request": errBadRequest, "signin_disabled": ErrSignInDisabled,
}

// errBadRequest is a request body the handler cannot decode.
var errBadRequest = errors.New("bad request")

func respond(w http.ResponseWriter, body any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		eb := errorBody{Error: err.Error()}
		status := http.StatusInternalServerError
		for k, sentinel := range kinds {
			if errors.Is(err, sentinel) {
				eb.Kind, status = k, http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(eb)
		return
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Client is Admin over the control socket.
type Client struct {
	http *http.Client
}

// Dial connects to a running daemon's control socket. ok is false when no
// daemon answers there.
func Dial(path string) (*Client, bool) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, false
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{http: &http.Client{Transport: tr}}, true
}

// do sends in (JSON, when not nil) and decodes the answer into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("control socket: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://bridge"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
			return fmt.Errorf("control socket: HTTP %d", resp.StatusCode)
		}
		if sentinel, ok := kinds[eb.Kind]; ok {
			return fmt.Errorf("%s: %w", strings.TrimSuffix(eb.Error, ": "+sentinel.Error()), sentinel)
		}
		return errors.New(eb.Error)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("control socket: decode answer: %w", err)
	}
	return nil
}

func (c *Client) CreateToken(ctx context.Context, name string) (string, error) {
	var body map[string]string
	err := c.do(ctx, http.MethodPost, "/tokens/"+url.PathEscape(name), nil, &body)
	return body["token"], err
}

func (c *Client) Tokens(ctx context.Context) ([]TokenInfo, error) {
	var tokens []TokenInfo
	err := c.do(ctx, http.MethodGet, "/tokens", nil, &tokens)
	return tokens, err
}

func (c *Client) RevokeToken(ctx context.Context, name string) error {
	var body map[string]string
	return c.do(ctx, http.MethodDelete, "/tokens/"+url.PathEscape(name), nil, &body)
}

func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://bridge/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup stream: %w", err)
	}
	if msg := resp.Trailer.Get("X-Backup-Error"); msg != "" {
		return n, fmt.Errorf("backup failed in the daemon: %s", msg)
	}
	return n, nil
}
