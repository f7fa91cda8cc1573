package saml

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a sign-in step, the result label of the metrics.
const (
	resultIssued  = "issued"  // a response went to AWS
	resultChoose  = "choose"  // the team picker was shown
	resultRefused = "refused" // the request or the user was refused
	resultError   = "error"   // the bridge failed (store, signing)
)

// Reasons, the reason label: stable names for dashboards and alerts.
const (
	reasonNone          = "none"
	reasonTooLarge      = "too_large"
	reasonMalformed     = "malformed"
	reasonForbiddenXML  = "forbidden_xml"
	reasonStructure     = "structure"
	reasonSignature     = "signature"
	reasonIssuer        = "issuer"
	reasonAudience      = "audience"
	reasonDestination   = "destination"
	reasonRecipient     = "recipient"
	reasonExpired       = "expired"
	reasonNotYetValid   = "not_yet_valid"
	reasonInResponseTo  = "in_response_to"
	reasonUnsolicited   = "unsolicited"
	reasonStatus        = "status"
	reasonReplay        = "replay"
	reasonUnknownUser   = "unknown_user"
	reasonAmbiguousUser = "ambiguous_user"
	reasonInactiveUser  = "inactive_user"
	reasonUnmappedUser  = "unmapped_user"
	reasonNoMetadata    = "no_metadata"
	reasonBadChoice     = "bad_choice"
	reasonAWSLimits     = "aws_limits"
	reasonInternal      = "internal"
)

// refusal is an error that knows its reason label and HTTP status. Its
// detail goes to the log and the audit record, never to the browser.
type refusal struct {
	reason string
	status int
	err    error
}

func (r *refusal) Error() string { return r.reason + ": " + r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refuse(reason string, format string, args ...any) error {
	return &refusal{reason: reason, status: http.StatusForbidden, err: fmt.Errorf(format, args...)}
}

func badRequest(reason string, format string, args ...any) error {
	return &refusal{reason: reason, status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// classify turns any error into its result, reason and status: a refusal
// says its own, anything else is the bridge's failure.
func classify(err error) (result, reason string, status int) {
	var r *refusal
	if errors.As(err, &r) {
		return resultRefused, r.reason, r.status
	}
	return resultError, reasonInternal, http.StatusInternalServerError
}

// signinMetrics are the instruments of sign-in.
type signinMetrics struct {
	signins  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	refresh  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*signinMetrics, error) {
	m := &signinMetrics{
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sagebridge", Subsystem: "saml", Name: "signins_total",
			Help: "Sign-in decisions by result (issued, choose, refused, error) and reason.",
		}, []string{"result", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "sagebridge", Subsystem: "saml", Name: "signin_duration_seconds",
			Help:    "Time from receiving a sign-in request to answering it, by result.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"result"}),
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sagebridge", Subsystem: "saml", Name: "upstream_metadata_refreshes_total",
			Help: "Loads of the upstream IdP metadata by result (ok, error).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.signins, m.duration, m.refresh} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register sign-in metrics: %w", err)
		}
	}
	return m, nil
}

// decision is what one request to a sign-in endpoint decided; record
// counts it and writes its audit record.
type decision struct {
	flow        string // sp, idp or choose
	ref         string // shown to the user on refusal
	result      string
	reason      string
	userID      string
	userName    string
	team        string
	role        string
	upstreamID  string // the upstream assertion ID
	responseID  string // the response issued to AWS
	detail      error
	remote      string
	startedTime time.Time
}

func (b *Bridge) record(ctx context.Context, d *decision) {
	b.metrics.signins.WithLabelValues(d.result, d.reason).Inc()
	b.metrics.duration.WithLabelValues(d.result).Observe(b.now().Sub(d.startedTime).Seconds())
	level := slog.LevelInfo
	if d.result == resultError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("event", "saml_signin"),
		slog.String("flow", d.flow),
		slog.String("result", d.result),
		slog.String("reason", d.reason),
		slog.String("ref", d.ref),
		slog.String("user_id", d.userID),
		slog.String("user_name", d.userName),
		slog.String("team", d.team),
		slog.String("role_arn", d.role),
		slog.String("upstream_assertion_id", d.upstreamID),
		slog.String("response_id", d.responseID),
		slog.String("remote_addr", d.remote),
	}
	if d.detail != nil {
		attrs = append(attrs, slog.String("detail", d.detail.Error()))
	}
	b.log.LogAttrs(ctx, level, "audit", attrs...)
}
