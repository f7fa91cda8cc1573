// Command scimload measures the real daemon over loopback: durable creates
// per second, filtered lookups with 100,000 users stored, adding one member
// to a group of 50,000, and the daemon's peak RSS. It starts
// `bridge serve --dev` on a fresh data directory and stops it at the end.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/bridge", "bridge binary")
	users := flag.Int("users", 100_000, "users to store before measuring lookups")
	members := flag.Int("members", 50_000, "members of the large group")
	dur := flag.Duration("d", 10*time.Second, "duration of each timed phase")
	flag.Parse()
	if err := run(*bin, *users, *members, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "scimload:", err)
		os.Exit(1)
	}
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func userBody(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name,
		"name":     map[string]any{"givenName": "Load", "familyName": "Test"},
		"emails":   []any{map[string]any{"value": name, "type": "work", "primary": true}},
		"active":   true,
	}
}

func run(bin string, nUsers, nMembers int, dur time.Duration) error {
	data, err := os.MkdirTemp("", "scimload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	cmd, c, err := start(bin, data)
	if err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()

	var ids []string
	var idsMu sync.Mutex
	var seq atomic.Int64
	create := func() (time.Duration, error) {
		name := fmt.Sprintf("user%07d@example.com", seq.Add(1))
		t0 := time.Now()
		status, b, err := c.do(http.MethodPost, "/Users", userBody(name))
		if err != nil || status != http.StatusCreated {
			return 0, fmt.Errorf("create: status %d err %v body %s", status, err, b)
		}
		var u struct{ ID string }
		if err := json.Unmarshal(b, &u); err != nil {
			return 0, err
		}
		idsMu.Lock()
		ids = append(ids, u.ID)
		idsMu.Unlock()
		return time.Since(t0), nil
	}

	for _, clients := range []int{1, 32} {
		r, err := timed(clients, dur, func(int) (time.Duration, error) { return create() })
		if err != nil {
			return err
		}
		fmt.Printf("durable creates, %2d clients: %8.0f /s  p50 %6.2f ms  p99 %6.2f ms\n", clients, r.rate, ms(r.p50), ms(r.p99))
	}

	fmt.Printf("loading to %d users...\n", nUsers)
	if err := fill(64, nUsers-int(seq.Load()), func() error { _, err := create(); return err }); err != nil {
		return err
	}
	r, err := timed(32, dur, func(int) (time.Duration, error) {
		name := fmt.Sprintf("user%07d@example.com", 1+rand.Int64N(seq.Load()))
		q := "/Users?filter=" + strings.ReplaceAll(fmt.Sprintf("userName eq %q", strings.ToUpper(name)), " ", "+")
		t0 := time.Now()
		status, b, err := c.do(http.MethodGet, q, nil)
		if err != nil || status != http.StatusOK || !bytes.Contains(b, []byte(`"totalResults":1`)) {
			return 0, fmt.Errorf("lookup %s: status %d err %v body %.200s", q, status, err, b)
		}
		return time.Since(t0), nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("userName eq lookups (%d users, 32 clients): %8.0f /s  p50 %6.2f ms  p99 %6.2f ms\n", seq.Load(), r.rate, ms(r.p50), ms(r.p99))

	status, b, err := c.do(http.MethodPost, "/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "team-large"})
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("create group: %d %v %s", status, err, b)
	}
	var g struct{ ID string }
	_ = json.Unmarshal(b, &g)
	const batch = 1000
	for i := 0; i < nMembers; i += batch {
		var vals []any
		for _, id := range ids[i:min(i+batch, nMembers)] {
			vals = append(vals, map[string]any{"value": id})
		}
		if status, b, err := c.do(http.MethodPatch, "/Groups/"+g.ID, patchAdd(vals)); err != nil || status != http.StatusNoContent {
			return fmt.Errorf("fill group: %d %v %s", status, err, b)
		}
	}
	next := atomic.Int64{}
	next.Store(int64(nMembers))
	r, err = timed(1, dur, func(int) (time.Duration, error) {
		id := ids[int(next.Add(1))%len(ids)]
		t0 := time.Now()
		status, b, err := c.do(http.MethodPatch, "/Groups/"+g.ID, patchAdd([]any{map[string]any{"value": id}}))
		if err != nil || status != http.StatusNoContent {
			return 0, fmt.Errorf("add member: %d %v %s", status, err, b)
		}
		return time.Since(t0), nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("add one member to a group of %d: %8.0f /s  p50 %6.2f ms  p99 %6.2f ms\n", nMembers, r.rate, ms(r.p50), ms(r.p99))
	rss, err := peakRSS(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("daemon peak RSS with %d users: %.1f MiB\n", seq.Load(), float64(rss)/(1<<20))
	return nil
}

func patchAdd(values []any) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": values}},
	}
}

func start(bin, data string) (*exec.Cmd, *client, error) {
	cmd := exec.Command(bin, "serve", "--dev", "--data", data, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if base, ok := strings.CutPrefix(sc.Text(), "  SCIM base URL : "); ok {
			go io.Copy(io.Discard, out)
			tok, err := os.ReadFile(filepath.Join(data, "dev-scim-token"))
			tr := &http.Transport{MaxIdleConnsPerHost: 128}
			return cmd, &client{base: base, token: strings.TrimSpace(string(tok)), http: &http.Client{Transport: tr}}, err
		}
	}
	return nil, nil, fmt.Errorf("daemon exited before listening")
}

type result struct {
	rate     float64
	p50, p99 time.Duration
}

// timed runs op from n clients for d and reports the rate and latency
// percentiles of the calls.
func timed(n int, d time.Duration, op func(worker int) (time.Duration, error)) (result, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				l, err := op(w)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, l)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return result{}, fmt.Errorf("no operation completed")
	}
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return result{rate: float64(len(lat)) / time.Since(start).Seconds(), p50: pct(0.50), p99: pct(0.99)}, nil
}

// fill runs op total times from n workers.
func fill(n, total int, op func() error) error {
	var left atomic.Int64
	left.Store(int64(total))
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := op(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
