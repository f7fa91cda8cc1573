// Package aws builds the IAM and SageMaker clients the sync engine uses,
// from the standard AWS configuration chain (region, credentials, and the
// AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SAGEMAKER variables), with explicit
// endpoints for tests and dev mode, where they point at the emulator.
package aws

import (
	"context"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
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
	return &Clients{
		IAM: iam.NewFromConfig(cfg, func(op *iam.Options) {
			if o.IAMEndpoint != "" {
				op.BaseEndpoint = sdkaws.String(o.IAMEndpoint)
			}
		}),
		SageMaker: sagemaker.NewFromConfig(cfg, func(op *sagemaker.Options) {
			if o.SageMakerEndpoint != "" {
				op.BaseEndpoint = sdkaws.String(o.SageMakerEndpoint)
			}
		}),
	}, nil
}
