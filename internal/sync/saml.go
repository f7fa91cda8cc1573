package sync

import (
	"context"
	"fmt"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// Action is one write a plan makes, in the order it is applied. Plans are
// lists of actions so that `bridge plan` can print them and tests can
// compare them.
type Action struct {
	// Op is the AWS operation (CreateRole, PutRolePolicy, AddTags, ...).
	Op string `json:"op"`
	// Resource names what it acts on: a role, a profile, a provider.
	Resource string `json:"resource"`
	// Detail is the policy name or ARN, or the tag keys, when there is one.
	Detail string `json:"detail,omitempty"`
}

func (a Action) String() string {
	if a.Detail == "" {
		return a.Op + " " + a.Resource
	}
	return a.Op + " " + a.Resource + " (" + a.Detail + ")"
}

// samlSpec is the desired SAML provider.
type samlSpec struct {
	Name     string `json:"name"`
	ARN      string `json:"arn"`
	Metadata string `json:"metadata"`
}

// samlState is the SAML provider as IAM has it.
type samlState struct {
	Exists   bool
	Metadata string
	Tags     map[string]string
}

// planSAML is pure: the writes that make actual equal desired, or a
// conflict when a provider of that name exists without the ownership tag.
func planSAML(d samlSpec, a samlState, owner bridgeaws.Owner) ([]Action, error) {
	switch {
	case !a.Exists:
		return []Action{{Op: "CreateSAMLProvider", Resource: d.Name}}, nil
	case !owner.Owns(a.Tags):
		return nil, fmt.Errorf("%w: SAML provider %s exists without the ownership tag %s=%s", ErrConflict, d.Name, owner.Key, owner.Value)
	case strings.TrimSpace(a.Metadata) != strings.TrimSpace(d.Metadata):
		return []Action{{Op: "UpdateSAMLProvider", Resource: d.Name}}, nil
	}
	return nil, nil
}

func (s *Syncer) samlSpec() (samlSpec, error) {
	md, err := s.o.Metadata()
	if err != nil {
		return samlSpec{}, fmt.Errorf("SAML provider: read the IdP metadata: %w", err)
	}
	return samlSpec{Name: s.aws.SAMLProviderName, ARN: s.aws.SAMLProviderARN(), Metadata: string(md)}, nil
}

func (s *Syncer) reconcileSAML(ctx context.Context) (Result, error) {
	if s.o.Metadata == nil {
		return Result{}, nil
	}
	d, err := s.samlSpec()
	if err != nil {
		return Result{}, err
	}
	st, _, err := s.status(ctx, SAMLKey)
	if err != nil {
		return Result{}, err
	}
	h := hashOf(d)
	verify := s.takeVerify(SAMLKey)
	if st.Applied == h && !verify {
		return Result{}, s.ready(ctx, SAMLKey)
	}
	a, err := s.readSAML(ctx, d.ARN)
	if err != nil {
		return Result{}, err
	}
	acts, err := planSAML(d, a, s.owner)
	if err != nil {
		return Result{}, s.conflict("saml_provider", err)
	}
	if len(acts) > 0 && st.Applied == h {
		s.o.Metrics.Drift.WithLabelValues("saml_provider").Inc()
	}
	for _, act := range acts {
		settled, err := s.w.applySAML(ctx, d, act)
		if err != nil {
			return Result{}, err
		}
		if !settled {
			return Result{RequeueAfter: s.o.PollInterval}, nil
		}
		st.Changed = s.o.Now()
	}
	if err := s.converged(ctx, st, StateConverged, h); err != nil {
		return Result{}, err
	}
	return Result{}, s.ready(ctx, SAMLKey)
}

func (s *Syncer) readSAML(ctx context.Context, arn string) (samlState, error) {
	out, err := s.iam.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn})
	if bridgeaws.Classify(err) == bridgeaws.NotFound {
		return samlState{}, nil
	}
	if err != nil {
		return samlState{}, fmt.Errorf("get SAML provider %s: %w", arn, err)
	}
	return samlState{Exists: true, Metadata: sdkaws.ToString(out.SAMLMetadataDocument), Tags: bridgeaws.IAMTagMap(out.Tags)}, nil
}
