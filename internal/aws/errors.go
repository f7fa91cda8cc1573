package aws

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Class is what an AWS error means for the reconciler.
type Class int

const (
	// Unknown errors are retried with backoff, and counted.
	Unknown Class = iota
	// Throttled: back off and try again; never a failure of the user.
	Throttled
	// Transient: 5xx, timeouts, connection trouble, an exhausted retry
	// quota; retry with backoff.
	Transient
	// NotFound: the resource does not exist (NoSuchEntity,
	// ResourceNotFound); an apply settles it by creating, a delete by
	// treating it as done.
	NotFound
	// AlreadyExists: a create raced another, or a previous attempt landed;
	// re-read and compare instead of failing.
	AlreadyExists
	// Conflict: the resource is in a state that forbids the call for now
	// (DeleteConflict, ResourceInUse); requeue after a while.
	Conflict
	// Terminal: retrying the same input cannot help (validation, malformed
	// policy, quota LimitExceeded); report it until the input changes.
	Terminal
)

func (c Class) String() string {
	switch c {
	case Throttled:
		return "throttled"
	case Transient:
		return "transient"
	case NotFound:
		return "not_found"
	case AlreadyExists:
		return "already_exists"
	case Conflict:
		return "conflict"
	case Terminal:
		return "terminal"
	}
	return "unknown"
}

var codeClasses = map[string]Class{
	// Throttling codes the SDK's standard retryer also knows.
	"Throttling": Throttled, "ThrottlingException": Throttled, "ThrottledException": Throttled,
	"TooManyRequestsException": Throttled, "RequestLimitExceeded": Throttled, "SlowDown": Throttled,
	"RequestThrottled": Throttled, "RequestThrottledException": Throttled,

	"ServiceUnavailable": Transient, "ServiceFailure": Transient, "ServiceUnavailableException": Transient, "InternalFailure": Transient,
	"InternalError": Transient, "RequestTimeout": Transient, "RequestTimeoutException": Transient,

	"NoSuchEntity": NotFound, "ResourceNotFound": NotFound, "ResourceNotFoundException": NotFound,

	"EntityAlreadyExists": AlreadyExists, "ResourceAlreadyExists": AlreadyExists,

	"DeleteConflict": Conflict, "ResourceInUse": Conflict, "ConcurrentModification": Conflict,

	// IAM LimitExceeded and SageMaker ResourceLimitExceeded are quotas,
	// not throttles: the SDK does not retry them and neither do we.
	"LimitExceeded": Terminal, "ResourceLimitExceeded": Terminal, "ValidationException": Terminal,
	"ValidationError": Terminal, "MalformedPolicyDocument": Terminal, "InvalidInput": Terminal,
	"UnmodifiableEntity": Terminal, "AccessDenied": Terminal, "AccessDeniedException": Terminal,
}

// Classify says what err means. It looks at the API error code first, so
// an emulator or a compatible endpoint that sends the real codes classifies
// the same as AWS, then at the transport.
func Classify(err error) Class {
	if err == nil {
		return Unknown
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		return Transient
	}
	if c, ok := codeClasses[Code(err)]; ok {
		return c
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= http.StatusInternalServerError {
		return Transient
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return Transient
	}
	return Unknown
}

// Code is the API error code of err, or "" when it is not an API error.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
