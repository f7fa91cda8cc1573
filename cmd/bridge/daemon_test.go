package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bridgeBin is the daemon built once for every test here, as the
// Dockerfile builds it, so that the tests run the real binary as an
// operator would.
var bridgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bridge-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bridgeBin = filepath.Join(dir, "bridge")
	env, args, err := dockerBuild(bridgeBin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", args...)
	build.Env = append(os.Environ(), env...)
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build bridge: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running `bridge serve --dev`.
type daemon struct {
	cmd  *exec.Cmd
	base string
	// admin is the admin listener's base URL (http://host:port).
	admin string
	// signIn is the dev test IdP's page the banner says to sign in from.
	signIn string
	token  string
	done   chan error
	// client, when set, is what request uses instead of the default.
	client *http.Client
	// logs, when set, collects the daemon's log lines.
	logs *logLines
}

// logLines is a daemon's log, appended to while tests read it.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

// records returns the JSON records logged so far with message msg.
func (l *logLines) records(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range l.lines {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func startDaemon(t *testing.T, dataDir string) *daemon {
	t.Helper()
	cmd := exec.Command(bridgeBin, "serve", "--dev", "--data", dataDir, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, done: make(chan error, 1)}
	// The banner is read as a new user reads it: the URLs it prints are
	// the ones the tests use, the sign-in page last.
	banner := make(chan [3]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var urls [3]string
		signInNext := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case signInNext:
				urls[2] = strings.TrimSpace(line)
				banner <- urls
				signInNext = false
			case strings.HasPrefix(line, "  SCIM base URL : "):
				urls[0] = strings.TrimPrefix(line, "  SCIM base URL : ")
			case strings.HasPrefix(line, "  status page   : "):
				urls[1] = strings.TrimSuffix(strings.TrimPrefix(line, "  status page   : "), "/status/")
			case strings.Contains(line, "sign in as her through the bridge"):
				signInNext = true
			}
		}
		close(banner)
	}()
	go func() { d.done <- cmd.Wait() }()
	select {
	case urls, ok := <-banner:
		if !ok {
			t.Fatalf("daemon exited before listening:\n%s", stderr.String())
		}
		d.base, d.admin, d.signIn = urls[0], urls[1], urls[2]
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("daemon did not start:\n%s", stderr.String())
	}
	tok, err := os.ReadFile(filepath.Join(dataDir, "dev-scim-token"))
	if err != nil {
		t.Fatal(err)
	}
	d.token = strings.TrimSpace(string(tok))
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

func (d *daemon) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		return err
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		t.Fatal("daemon did not exit")
		return nil
	}
}

func (d *daemon) request(method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/scim+json")
	c := d.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

func newUser(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name,
		"emails":   []any{map[string]any{"value": name, "type": "work", "primary": true}},
	}
}

// burst creates users from several clients until stop is closed and returns
// the ids of every create the daemon acknowledged with 201.
func burst(d *daemon, clients int, prefix string, stop <-chan struct{}, acked chan<- int) map[string]string {
	var mu sync.Mutex
	created := map[string]string{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("%s-%d-%d@example.com", prefix, c, i)
				status, body, err := d.request(http.MethodPost, "/Users", newUser(name))
				if err != nil {
					return // the daemon is gone
				}
				if status == http.StatusCreated {
					mu.Lock()
					created[body["id"].(string)] = name
					n := len(created)
					mu.Unlock()
					select {
					case acked <- n:
					default:
					}
				}
			}
		}()
	}
	wg.Wait()
	return created
}

func checkAllPresent(t *testing.T, d *daemon, created map[string]string) {
	t.Helper()
	for id, name := range created {
		status, body, err := d.request(http.MethodGet, "/Users/"+id, nil)
		if err != nil || status != http.StatusOK || body["userName"] != name {
			t.Fatalf("acknowledged user %s (%s) after restart: status %d err %v body %v", id, name, status, err, body)
		}
	}
}

// waitAcked reads progress until at least n creates were acknowledged.
func waitAcked(t *testing.T, acked <-chan int, n int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case got := <-acked:
			if got >= n {
				return
			}
		case <-deadline:
			t.Fatalf("fewer than %d creates acknowledged in 60s", n)
		}
	}
}

func TestSIGKILLLosesNoAcknowledgedCreate(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir)
	stop := make(chan struct{})
	acked := make(chan int, 1)
	result := make(chan map[string]string, 1)
	go func() { result <- burst(d, 16, "kill", stop, acked) }()
	waitAcked(t, acked, 1000)
	d.stop(t, syscall.SIGKILL)
	close(stop)
	created := <-result
	t.Logf("%d creates acknowledged before SIGKILL", len(created))

	d2 := startDaemon(t, dataDir)
	checkAllPresent(t, d2, created)
}

func TestSIGTERMFinishesInFlightWrites(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir)
	stop := make(chan struct{})
	acked := make(chan int, 1)
	result := make(chan map[string]string, 1)
	go func() { result <- burst(d, 8, "term", stop, acked) }()
	waitAcked(t, acked, 100)
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v", err)
	}
	close(stop)
	created := <-result

	d2 := startDaemon(t, dataDir)
	checkAllPresent(t, d2, created)
	if d.token != d2.token {
		t.Error("dev mode changed its token across a restart")
	}
}
