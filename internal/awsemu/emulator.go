package awsemu

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Emulator. The zero value is usable: account
// 123456789012, region us-east-1, the wall clock, AWS's default quotas, and
// transitional states that last one observation.
type Options struct {
	// AccountID goes into every ARN. Default DefaultAccountID.
	AccountID string
	// Region goes into SageMaker ARNs. Default "us-east-1". (IAM is global
	// and its ARNs have no region.)
	Region string
	// Now is the clock for timestamps and for the Delay of transitions and of
	// role visibility. Default time.Now; tests pass a ManualClock's Now.
	Now func() time.Time

	// Async governs Pending, Updating and Deleting of user profiles, apps and
	// spaces.
	Async Transition
	// RoleVisibility is the window after CreateRole during which SageMaker
	// does not yet see the role: CreateUserProfile / UpdateUserProfile naming
	// it as ExecutionRole fail with ValidationException (reference rule 18).
	RoleVisibility Transition

	// Quotas override AWS's default account quotas; zero fields keep the
	// defaults.
	Quotas Quotas

	// IAMPageCap, when positive, caps every IAM list page below MaxItems
	// while still reporting IsTruncated, as IAM is documented to do
	// (reference rule 15), so clients that stop on a short page are caught.
	IAMPageCap int

	// Domains are SageMaker domains that exist from the start (users create
	// domains outside the bridge). More can be added with AddDomain.
	Domains []Domain

	// Faults are the initial fault-injection settings; see SetFaults.
	Faults Faults
}

// Transition says how long a transitional state lasts: the resource moves on
// once it has been observed Observations times while in the state AND the
// clock has passed Delay since the state was entered. Observations 0 means
// the default of 1 (so a client sees every intermediate state at least
// once); a negative value means none.
type Transition struct {
	Observations int
	Delay        time.Duration
}

func (t Transition) observations() int {
	switch {
	case t.Observations == 0:
		return 1
	case t.Observations < 0:
		return 0
	}
	return t.Observations
}

// Quotas are the IAM and SageMaker limits that answer LimitExceeded /
// ResourceLimitExceeded (reference rule 11). GetAccountSummary reports them.
type Quotas struct {
	// AssumeRolePolicySize: non-whitespace characters of a trust policy.
	// Default 2048 (ACLSizePerRole).
	AssumeRolePolicySize int
	// RolePolicySize: non-whitespace characters of all inline policies of
	// one role together. Default 10240.
	RolePolicySize int
	// AttachedPoliciesPerRole: default 10 (PoliciesPerRole).
	AttachedPoliciesPerRole int
	// Roles per account. Default 1000.
	Roles int
	// SAMLProviders per account. Default 100.
	SAMLProviders int
	// UserProfilesPerDomain: 0 means unlimited.
	UserProfilesPerDomain int
}

// DefaultAccountID is the account of an Emulator whose Options give none.
const DefaultAccountID = "123456789012"

func (o Options) withDefaults() Options {
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	q := &o.Quotas
	setDefault(&q.AssumeRolePolicySize, 2048)
	setDefault(&q.RolePolicySize, 10240)
	setDefault(&q.AttachedPoliciesPerRole, 10)
	setDefault(&q.Roles, 1000)
	setDefault(&q.SAMLProviders, 100)
	return o
}

func setDefault(v *int, d int) {
	if *v <= 0 {
		*v = d
	}
}

// Emulator is the IAM + SageMaker emulator. It is an http.Handler; Start or
// Serve run it on a listener. All methods are safe for concurrent use.
type Emulator struct {
	opts Options

	// mu guards the emulated AWS state below. Each API call holds it for the
	// whole operation, which makes every call atomic as AWS's are.
	mu    sync.Mutex
	iam   iamState
	sm    smState
	idSeq uint64 // resource ids (RoleId, SAMLProviderUUID)

	reqID atomic.Uint64 // request ids are a counter: deterministic in tests

	faults faultState
	stats  counters

	srvMu sync.Mutex
	srv   *http.Server
	url   string
}

// New returns an Emulator with empty state (plus opts.Domains).
func New(opts Options) *Emulator {
	opts = opts.withDefaults()
	e := &Emulator{opts: opts}
	e.iam.init()
	e.sm.init()
	e.faults.set(opts.Faults)
	e.stats.init()
	for _, d := range opts.Domains {
		// Domains given in Options are trusted configuration; an invalid one
		// is a programming error the first DescribeDomain will show.
		_, _ = e.AddDomain(d)
	}
	return e
}

func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }

// AccountID returns the account id in the emulator's ARNs.
func (e *Emulator) AccountID() string { return e.opts.AccountID }

// Region returns the region in the emulator's SageMaker ARNs.
func (e *Emulator) Region() string { return e.opts.Region }

// Start listens on a free loopback port and serves in the background. It
// returns the base URL to give the SDK clients as their endpoint.
func (e *Emulator) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("awsemu: listen: %w", err)
	}
	srv, err := e.register(ln)
	if err != nil {
		ln.Close()
		return "", err
	}
	// Serve's error after Start has returned is only ErrServerClosed, from
	// Close, or a listener failure no caller could act on.
	go srv.Serve(ln)
	return e.URL(), nil
}

// Serve serves on ln until Close. It returns http.ErrServerClosed after Close.
func (e *Emulator) Serve(ln net.Listener) error {
	srv, err := e.register(ln)
	if err != nil {
		return err
	}
	return srv.Serve(ln)
}

func (e *Emulator) register(ln net.Listener) (*http.Server, error) {
	e.srvMu.Lock()
	defer e.srvMu.Unlock()
	if e.srv != nil {
		return nil, errors.New("awsemu: already serving")
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.url = "http://" + ln.Addr().String()
	return e.srv, nil
}

// URL returns the base URL while serving, else "".
func (e *Emulator) URL() string {
	e.srvMu.Lock()
	defer e.srvMu.Unlock()
	return e.url
}

// Close stops the server, dropping open connections. State stays readable,
// and Start may serve it again (on a new port).
func (e *Emulator) Close() error {
	e.srvMu.Lock()
	srv := e.srv
	e.srv, e.url = nil, ""
	e.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	// Close, not Shutdown: a client may hold a connection it never sent a
	// request on, which Shutdown would wait seconds for.
	return srv.Close()
}

// ManualClock is a clock tests move by hand, for Options.Now.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
