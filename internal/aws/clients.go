// Package aws builds the IAM and SageMaker clients the sync engine uses,
// from the standard AWS configuration chain (region, credentials, and the
// AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SAGEMAKER variables), with explicit
// endpoints for tests and dev mode, where they point at the emulator.
package aws

import (
	"context"
	"fmt"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Options override parts of the standard configuration chain.
type Options struct {
	// Region overrides the region of the environment or profile.
	Region string
	// IAMEndpoint and SageMakerEndpoint, when set, replace the resolved
	// service endpoints (BaseEndpoint).
	IAMEndpoint       string
	SageMakerEndpoint string
	// Credentials, when set, replace the credential chain.
	Credentials sdkaws.CredentialsProvider
	// IAMRate and SageMakerRate bound the calls per second each client
	// makes, every retry attempt included; 0 means no client-side limit.
	IAMRate       float64
	SageMakerRate float64
}

// Clients are the SDK clients sagebridge calls.
type Clients struct {
	IAM       *iam.Client
	SageMaker *sagemaker.Client
}

// New loads the AWS configuration and builds the clients.
func New(ctx context.Context, o Options) (*Clients, error) {
	var loads []func(*config.LoadOptions) error
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		loads = append(loads, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("load AWS configuration: no region (set AWS_REGION or the configuration's aws.region)")
	}
	// One bucket per client for its whole life: API options run for every
	// operation, so the limiter must be made here, not inside them.
	iamLimiter, smLimiter := newLimiter(o.IAMRate), newLimiter(o.SageMakerRate)
	return &Clients{
		IAM: iam.NewFromConfig(cfg, func(op *iam.Options) {
			if o.IAMEndpoint != "" {
				op.BaseEndpoint = sdkaws.String(o.IAMEndpoint)
			}
			op.Retryer = newRetryer(iamLimiter != nil)
			op.APIOptions = append(op.APIOptions, limit(iamLimiter))
		}),
		SageMaker: sagemaker.NewFromConfig(cfg, func(op *sagemaker.Options) {
			if o.SageMakerEndpoint != "" {
				op.BaseEndpoint = sdkaws.String(o.SageMakerEndpoint)
			}
			op.Retryer = newRetryer(smLimiter != nil)
			op.APIOptions = append(op.APIOptions, limit(smLimiter))
		}),
	}, nil
}

// newRetryer is the SDK's standard retryer with two changes. Each client
// gets its own, so that IAM's state stays apart from SageMaker's.
//
// Its retry quota (500 tokens, 5 per retry) turns sustained throttling into
// immediate failures (reference rule 29), so it is off.
//
// With a client-side limiter (paced), a throttled attempt is retried at
// once: the retry goes through the limiter like every attempt, so the
// client never sends more than its budget, and the budget is spent on
// calls instead of on a worker sleeping out the SDK's backoff (about a
// second per throttle) while the limiter's tokens go unused. A call still
// throttled after the SDK's attempts fails as a throttle, which the sync
// requeues with backoff instead of holding a worker. Other retryable
// errors (5xx, timeouts) keep the SDK's exponential backoff: a failing
// service is given time, whatever the budget.
func newRetryer(paced bool) sdkaws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.RateLimiter = ratelimit.None
		if paced {
			o.Backoff = throttlesPaced{throttle: retry.IsErrorThrottles(o.Throttles), other: retry.NewExponentialJitterBackoff(o.MaxBackoff)}
		}
	})
}

// throttlesPaced is the backoff of a paced client: none after a throttle,
// the SDK's after anything else.
type throttlesPaced struct {
	throttle retry.IsErrorThrottle
	other    retry.BackoffDelayer
}

func (b throttlesPaced) BackoffDelay(attempt int, err error) (time.Duration, error) {
	if b.throttle.IsErrorThrottle(err).Bool() {
		return 0, nil
	}
	return b.other.BackoffDelay(attempt, err)
}

func newLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
}

// limit inserts a token-bucket wait after the retry middleware, so every
// attempt, not just every operation, spends a token.
func limit(lim *rate.Limiter) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		if lim == nil {
			return nil
		}
		return st.Finalize.Insert(limiter{lim}, "Retry", middleware.After)
	}
}

type limiter struct{ lim *rate.Limiter }

func (limiter) ID() string { return "sagebridge.ClientRateLimit" }

func (l limiter) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if err := l.lim.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("client rate limit: %w", err)
	}
	return next.HandleFinalize(ctx, in)
}
