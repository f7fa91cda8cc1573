package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// AWS is the account the bridge keeps in sync: where, what it may touch,
// and how fast.
type AWS struct {
	// AccountID is the 12-digit account the roles and SAML provider live in.
	AccountID string `yaml:"accountId"`
	// Region of the SageMaker domain.
	Region string `yaml:"region"`
	// Partition names ARNs: aws, aws-us-gov or aws-cn.
	Partition string    `yaml:"partition"`
	SageMaker SageMaker `yaml:"sagemaker"`
	// SAMLProviderName is the IAM SAML provider that holds the bridge's IdP
	// metadata and that every federation role trusts.
	SAMLProviderName string `yaml:"samlProviderName"`
	// OwnershipTag marks what the bridge created; anything without it is
	// never changed or deleted, only reported.
	OwnershipTag      Tag               `yaml:"ownershipTag"`
	Deprovision       Deprovision       `yaml:"deprovision"`
	DeletionThreshold DeletionThreshold `yaml:"deletionThreshold"`
	RateLimits        RateLimits        `yaml:"rateLimits"`
	Quotas            Quotas            `yaml:"quotas"`
	Sync              SyncTuning        `yaml:"sync"`
}

// SageMaker names the Studio domain user profiles are created in.
type SageMaker struct {
	DomainID string `yaml:"domainId"`
}

// Tag is one AWS tag.
type Tag struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// Deprovision says what happens to a deactivated or deleted user's
// profile: it is suspended at once, and deleted (apps and spaces first)
// after Grace if DeleteAfterGrace.
type Deprovision struct {
	Grace            Duration `yaml:"grace"`
	DeleteAfterGrace bool     `yaml:"deleteAfterGrace"`
}

// DeletionThreshold holds deletions back for `bridge approve` when one
// Window would delete more than Count resources or more than Percent of
// those the bridge manages.
type DeletionThreshold struct {
	Count   int      `yaml:"count"`
	Percent float64  `yaml:"percent"`
	Window  Duration `yaml:"window"`
}

// RateLimits are client-side budgets per API, in calls per second. AWS
// publishes none, so they are conservative and configurable.
type RateLimits struct {
	IAM       float64 `yaml:"iam"`
	SageMaker float64 `yaml:"sagemaker"`
}

// SyncTuning paces the sync engine. The defaults suit a production
// account; the rate limits, not these, bound the load on AWS.
type SyncTuning struct {
	// Workers is how many keys are reconciled at once.
	Workers int `yaml:"workers"`
	// ResyncInterval is the period of the full resync that finds drift.
	ResyncInterval Duration `yaml:"resyncInterval"`
	// VerifyRate is how many recorded keys per second the background sweep
	// re-reads from AWS, whatever their recorded state; 0 turns it off.
	VerifyRate float64 `yaml:"verifyRate"`
	// PollInterval is how long a key waits for AWS to settle (a profile
	// being created or updated, apps being deleted) before it looks again.
	PollInterval Duration `yaml:"pollInterval"`
}

// Quotas are account quotas that AWS lets an account raise; the defaults
// are AWS's defaults.
type Quotas struct {
	// ManagedPoliciesPerRole is IAM's PoliciesPerRole (L-0DA4ABF3).
	ManagedPoliciesPerRole int `yaml:"managedPoliciesPerRole"`
}

// Defaults of the aws section.
const (
	DefaultPartition              = "aws"
	DefaultSAMLProviderName       = "sagebridge"
	DefaultOwnershipTagKey        = "sagebridge:managed"
	DefaultOwnershipTagValue      = "true"
	DefaultDeprovisionGrace       = 30 * 24 * time.Hour // Entra sends DELETE about 30 days after soft delete
	DefaultDeletionCount          = 10
	DefaultDeletionPercent        = 10
	DefaultDeletionWindow         = time.Hour
	DefaultIAMRate                = 10 // mutating IAM calls are the scarce ones
	DefaultSageMakerRate          = 2  // List APIs are reported at about 2 TPS per account
	DefaultManagedPoliciesPerRole = 10
	DefaultSyncWorkers            = 16
	DefaultResyncInterval         = time.Hour
	DefaultVerifyRate             = 0.1
	DefaultPollInterval           = 10 * time.Second
	maxSyncWorkers                = 64
	maxManagedPoliciesPerRole     = 25 // the highest value AWS documents for the raised quota
	maxRate                       = 1000
)

func (a *AWS) setDefaults() {
	*a = AWS{
		Partition:         DefaultPartition,
		SAMLProviderName:  DefaultSAMLProviderName,
		OwnershipTag:      Tag{Key: DefaultOwnershipTagKey, Value: DefaultOwnershipTagValue},
		Deprovision:       Deprovision{Grace: Duration{DefaultDeprovisionGrace}, DeleteAfterGrace: true},
		DeletionThreshold: DeletionThreshold{Count: DefaultDeletionCount, Percent: DefaultDeletionPercent, Window: Duration{DefaultDeletionWindow}},
		RateLimits:        RateLimits{IAM: DefaultIAMRate, SageMaker: DefaultSageMakerRate},
		Quotas:            Quotas{ManagedPoliciesPerRole: DefaultManagedPoliciesPerRole},
		Sync: SyncTuning{Workers: DefaultSyncWorkers, ResyncInterval: Duration{DefaultResyncInterval},
			VerifyRate: DefaultVerifyRate, PollInterval: Duration{DefaultPollInterval}},
	}
}

// SAMLProviderARN is the ARN of the configured SAML provider.
func (a *AWS) SAMLProviderARN() string {
	return SAMLProviderARN(a.Partition, a.AccountID, a.SAMLProviderName)
}

func (a *AWS) validate(v *validator) {
	if !accountRe.MatchString(a.AccountID) {
		v.add("aws.accountId", fmt.Sprintf("must be the 12-digit account ID (quote it to keep leading zeros), got %q", a.AccountID))
	}
	partitionOK := true
	if !slices.Contains(Partitions, a.Partition) {
		v.add("aws.partition", fmt.Sprintf("must be one of %s, got %q", strings.Join(Partitions, ", "), a.Partition))
		partitionOK = false
	}
	switch {
	case !regionRe.MatchString(a.Region):
		v.add("aws.region", fmt.Sprintf("must be a region code such as eu-west-1, got %q", a.Region))
	case partitionOK && regionPartition(a.Region) != a.Partition:
		v.add("aws.region", fmt.Sprintf("%q is in partition %s, but aws.partition is %s", a.Region, regionPartition(a.Region), a.Partition))
	}
	if !domainIDRe.MatchString(a.SageMaker.DomainID) {
		v.add("aws.sagemaker.domainId", fmt.Sprintf("must be a SageMaker domain ID such as d-abc123def456, got %q", a.SageMaker.DomainID))
	}
	if !samlNameRe.MatchString(a.SAMLProviderName) {
		v.add("aws.samlProviderName", fmt.Sprintf("must be 1-128 letters, digits and ._-, got %q", a.SAMLProviderName))
	}
	if err := CheckTagKey(a.OwnershipTag.Key); err != nil {
		v.add("aws.ownershipTag.key", err.Error())
	}
	if err := CheckTagValue(a.OwnershipTag.Value); err != nil {
		v.add("aws.ownershipTag.value", err.Error())
	}
	if a.Deprovision.Grace.Duration < 0 {
		v.add("aws.deprovision.grace", fmt.Sprintf("must not be negative, got %s", a.Deprovision.Grace))
	}
	t := a.DeletionThreshold
	if t.Count < 0 {
		v.add("aws.deletionThreshold.count", fmt.Sprintf("must be 0 (every deletion waits for approval) or more, got %d", t.Count))
	}
	if t.Percent < 0 || t.Percent > 100 {
		v.add("aws.deletionThreshold.percent", fmt.Sprintf("must be from 0 to 100, got %g", t.Percent))
	}
	if t.Window.Duration <= 0 {
		v.add("aws.deletionThreshold.window", fmt.Sprintf("must be positive, got %s", t.Window))
	}
	for _, r := range []struct {
		field string
		rate  float64
	}{{"aws.rateLimits.iam", a.RateLimits.IAM}, {"aws.rateLimits.sagemaker", a.RateLimits.SageMaker}} {
		if r.rate <= 0 || r.rate > maxRate {
			v.add(r.field, fmt.Sprintf("must be more than 0 and at most %d calls per second, got %g", maxRate, r.rate))
		}
	}
	if q := a.Quotas.ManagedPoliciesPerRole; q < 1 || q > maxManagedPoliciesPerRole {
		v.add("aws.quotas.managedPoliciesPerRole", fmt.Sprintf("must be from 1 to %d (AWS's default is %d), got %d", maxManagedPoliciesPerRole, DefaultManagedPoliciesPerRole, q))
	}
	s := a.Sync
	if s.Workers < 1 || s.Workers > maxSyncWorkers {
		v.add("aws.sync.workers", fmt.Sprintf("must be from 1 to %d, got %d", maxSyncWorkers, s.Workers))
	}
	if s.ResyncInterval.Duration < time.Minute {
		v.add("aws.sync.resyncInterval", fmt.Sprintf("must be at least 1m, got %s", s.ResyncInterval))
	}
	if s.VerifyRate < 0 || s.VerifyRate > maxRate {
		v.add("aws.sync.verifyRate", fmt.Sprintf("must be from 0 to %d keys per second, got %g", maxRate, s.VerifyRate))
	}
	if s.PollInterval.Duration < 100*time.Millisecond {
		v.add("aws.sync.pollInterval", fmt.Sprintf("must be at least 100ms, got %s", s.PollInterval))
	}
}

// regionPartition tells which partition a region code belongs to.
func regionPartition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}
