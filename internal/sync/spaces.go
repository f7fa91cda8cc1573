package sync

import (
	"context"
	"fmt"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// spaceIndex is the domain's spaces by owner, shared by the profile
// deletions under way. ListSpaces has no owner filter, so each deletion
// listing every page for itself would cost, per pass, calls in proportion
// to the domain: an offboarding of hundreds of users in a large domain
// would spend the SageMaker rate on the same pages again and again.
//
// A listing serves every deletion whose previous pass ended before the
// listing started: each pass sees the spaces as they were after what it
// did last, and passes that overlap share one listing. A first pass may
// get an older listing; that costs no safety, since every space is read
// again before anything is deleted in it (ownedSpaceStatus), only a
// refused profile deletion and one more pass when the user made a space
// since.
type spaceIndex struct {
	list func(context.Context) (map[string][]smtypes.SpaceDetails, error)

	mu      sync.Mutex
	seq     uint64 // counts listings started and passes ended
	listed  uint64 // seq at the start of the listing byOwner holds
	byOwner map[string][]smtypes.SpaceDetails
	listing chan struct{} // closed when the listing under way ends
	// after holds, for a profile whose last pass ended after the listing
	// byOwner holds started, the seq its next listing must start after.
	after map[string]uint64
}

func newSpaceIndex(list func(context.Context) (map[string][]smtypes.SpaceDetails, error)) *spaceIndex {
	return &spaceIndex{list: list, after: map[string]uint64{}}
}

// owned returns the spaces the profile owns, from a listing that started
// after the profile's last pass ended.
func (x *spaceIndex) owned(ctx context.Context, profile string) ([]smtypes.SpaceDetails, error) {
	x.mu.Lock()
	for x.byOwner == nil || x.listed <= x.after[profile] {
		if x.listing == nil {
			return x.relist(ctx, profile)
		}
		wait := x.listing
		x.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		x.mu.Lock()
	}
	defer x.mu.Unlock()
	return x.byOwner[profile], nil
}

// relist lists the spaces, with x.mu held on entry and released on return.
func (x *spaceIndex) relist(ctx context.Context, profile string) ([]smtypes.SpaceDetails, error) {
	x.seq++
	start, done := x.seq, make(chan struct{})
	x.listing = done
	x.mu.Unlock()
	byOwner, err := x.list(ctx)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.listing = nil
	close(done)
	if err != nil {
		return nil, err
	}
	x.byOwner, x.listed = byOwner, start
	// A profile whose pass ended before this listing started is served
	// by it as by a listing with no condition: its entry can go.
	for p, after := range x.after {
		if after < start {
			delete(x.after, p)
		}
	}
	return byOwner[profile], nil
}

// passed records that a pass of the profile's deletion ended: its next
// pass needs a listing started from now on.
func (x *spaceIndex) passed(profile string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.seq++
	x.after[profile] = x.seq
}

// listSpaces reads every page of the domain's spaces.
func (s *Syncer) listSpaces(ctx context.Context) (map[string][]smtypes.SpaceDetails, error) {
	byOwner := map[string][]smtypes.SpaceDetails{}
	var token *string
	for {
		page, err := s.sm.ListSpaces(ctx, &sagemaker.ListSpacesInput{DomainIdEquals: &s.aws.SageMaker.DomainID, NextToken: token, MaxResults: sdkaws.Int32(100)})
		if err != nil {
			return nil, fmt.Errorf("list spaces: %w", err)
		}
		for _, sp := range page.Spaces {
			if sp.OwnershipSettingsSummary != nil {
				owner := sdkaws.ToString(sp.OwnershipSettingsSummary.OwnerUserProfileName)
				byOwner[owner] = append(byOwner[owner], sp)
			}
		}
		if sdkaws.ToString(page.NextToken) == "" {
			return byOwner, nil
		}
		token = page.NextToken
	}
}
