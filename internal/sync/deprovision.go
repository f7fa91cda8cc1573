package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// deprovision handles a user that is deleted, inactive or in no team:
// suspend the profile at once (remove the userId tag, so the ABAC policies
// let nobody open it), and delete it after the grace period, apps and
// spaces first. Reactivation within the grace period goes through
// provision, which restores the tags.
func (s *Syncer) deprovision(ctx context.Context, st Status, id, why string, deleted bool) (Result, error) {
	if st.Profile == "" {
		// The sync never created a profile for this user.
		if deleted {
			if err := s.enqueue(ctx, s.claims.release(id)); err != nil {
				return Result{}, err
			}
			return Result{}, s.deleteStatus(ctx, st.Key)
		}
		return Result{}, s.converged(ctx, st, StateSuspended, "")
	}
	if st.State == StateDeleted && !s.takeVerify(st.Key) {
		return s.finishDeletion(ctx, st, id, deleted)
	}
	now := s.o.Now()
	if st.InactiveSince.IsZero() {
		st.InactiveSince = now
		if err := s.putStatus(ctx, st); err != nil {
			return Result{}, err
		}
		s.log.InfoContext(ctx, "deprovisioning user", "key", st.Key, "profile", st.Profile, "reason", why)
	}
	dp := s.aws.Deprovision
	deleteAt := st.InactiveSince.Add(dp.Grace.Duration)
	if !dp.DeleteAfterGrace || now.Before(deleteAt) {
		return s.suspend(ctx, st, deleteAt)
	}
	return s.deleteUserProfile(ctx, st, id, deleted)
}

// suspend removes the userId tag and keeps the key queued until the grace
// period ends.
func (s *Syncer) suspend(ctx context.Context, st Status, deleteAt time.Time) (Result, error) {
	next := Result{}
	if s.aws.Deprovision.DeleteAfterGrace {
		next.RequeueAfter = max(deleteAt.Sub(s.o.Now()), time.Millisecond)
	}
	spec := profileSpec{Domain: s.aws.SageMaker.DomainID, Name: st.Profile,
		Tags: map[string]string{s.owner.Key: s.owner.Value}, Absent: []string{TagUserID}}
	h := hashOf(spec)
	if st.Applied == h && st.State == StateSuspended && !s.takeVerify(st.Key) {
		return next, nil
	}
	a, err := s.ReadProfile(ctx, st.Profile)
	if err != nil {
		return Result{}, err
	}
	if !a.Exists {
		return next, s.converged(ctx, st, StateSuspended, h)
	}
	acts, wait, err := planProfile(spec, a, s.owner)
	switch {
	case errors.Is(err, ErrConflict):
		return Result{}, s.conflict("profile", err)
	case err != nil:
		return Result{}, Terminal(err)
	case wait:
		return Result{RequeueAfter: s.o.PollInterval}, nil
	case len(acts) == 0:
		return next, s.converged(ctx, st, StateSuspended, h)
	}
	for _, act := range acts {
		settled, err := s.w.applyProfile(ctx, spec, a, act)
		if err != nil {
			return Result{}, err
		}
		if !settled {
			break
		}
	}
	s.log.InfoContext(ctx, "user profile suspended", "key", st.Key, "profile", st.Profile)
	st.State, st.Applied, st.Changed = StatePending, "", s.o.Now()
	return Result{RequeueAfter: s.o.PollInterval}, s.putStatus(ctx, st)
}

// deleteUserProfile deletes the profile once the deletion threshold lets
// it, one step per pass: apps of the user's spaces, the spaces, the
// user's own apps, then the profile, waiting for each to be gone.
func (s *Syncer) deleteUserProfile(ctx context.Context, st Status, id string, deleted bool) (Result, error) {
	if st.State != StateDeleting {
		a, err := s.ReadProfile(ctx, st.Profile)
		if err != nil {
			return Result{}, err
		}
		if !a.Exists {
			return s.finishDeletion(ctx, st, id, deleted)
		}
		if !s.owner.Owns(a.Tags) {
			return Result{}, s.conflict("profile", fmt.Errorf("user profile %s is due for deletion but has no ownership tag %s=%s; left in place", st.Profile, s.owner.Key, s.owner.Value))
		}
		managed := func() int { return s.managedCount(ctx, kindUser+"/") }
		if !s.held.allow(st.Key, deleteProfile, managed, !st.Approved.IsZero()) {
			return Result{}, Terminal(fmt.Errorf("%w: user profile %s", ErrHeld, st.Profile))
		}
		st.State, st.Applied, st.Approved = StateDeleting, "", time.Time{}
		if err := s.putStatus(ctx, st); err != nil {
			return Result{}, err
		}
		s.log.InfoContext(ctx, "deleting user profile after the grace period", "key", st.Key, "profile", st.Profile)
	}
	gone, err := s.removeProfile(ctx, st.Profile)
	if err != nil || !gone {
		return Result{RequeueAfter: s.o.PollInterval}, err
	}
	return s.finishDeletion(ctx, st, id, deleted)
}

// finishDeletion records a deleted profile. A deleted user lets go of its
// name (and the users refused for it are tried again); an inactive user
// keeps it, so reactivation recreates the same profile name.
func (s *Syncer) finishDeletion(ctx context.Context, st Status, id string, deleted bool) (Result, error) {
	if deleted {
		if err := s.enqueue(ctx, s.claims.release(id)); err != nil {
			return Result{}, err
		}
		return Result{}, s.deleteStatus(ctx, st.Key)
	}
	if st.State == StateDeleted {
		return Result{}, nil
	}
	s.log.InfoContext(ctx, "user profile deleted", "key", st.Key, "profile", st.Profile)
	return Result{}, s.converged(ctx, st, StateDeleted, "")
}

// removeProfile makes one pass of the deletion and reports whether the
// profile is gone. SageMaker refuses to delete a profile while it owns
// spaces or has apps that are not Deleted or Failed, and a space while it
// has such apps; deletions are asynchronous, so each pass starts what it
// can and the key looks again later.
func (s *Syncer) removeProfile(ctx context.Context, name string) (gone bool, err error) {
	defer func() {
		if !gone {
			s.spaces.passed(name)
		}
	}()
	a, err := s.describeProfile(ctx, name)
	if err != nil || !a.Exists {
		return !a.Exists && err == nil, err
	}
	if a.Status == profileDeleting {
		return false, nil
	}
	listed, err := s.spaces.owned(ctx, name)
	if err != nil {
		return false, err
	}
	busy := false
	for _, l := range listed {
		space := sdkaws.ToString(l.SpaceName)
		status, owned, err := s.ownedSpaceStatus(ctx, name, space)
		if err != nil {
			return false, err
		}
		if !owned {
			continue
		}
		busy = true
		appsBusy, err := s.deleteApps(ctx, &sagemaker.ListAppsInput{SpaceNameEquals: &space})
		if err != nil {
			return false, err
		}
		if appsBusy || status == smtypes.SpaceStatusDeleting {
			continue
		}
		err = s.w.deleteSpace(ctx, space)
		if c := bridgeaws.Classify(err); err != nil && c != bridgeaws.NotFound && c != bridgeaws.Conflict {
			return false, fmt.Errorf("delete space %s of user profile %s: %w", space, name, err)
		}
	}
	appsBusy, err := s.deleteApps(ctx, &sagemaker.ListAppsInput{UserProfileNameEquals: &name})
	if err != nil || busy || appsBusy {
		return false, err
	}
	err = s.w.deleteUserProfile(ctx, name)
	switch c := bridgeaws.Classify(err); {
	case err == nil, c == bridgeaws.Conflict:
		return false, nil
	case c == bridgeaws.NotFound:
		return true, nil
	}
	return false, fmt.Errorf("delete user profile %s: %w", name, err)
}

// ownedSpaceStatus reads a listed space again before anything is deleted
// in it: the listing may be older than the pass (spaceIndex), and a space
// deleted since could have had its name taken by another user's new
// space. owned is false when the space is gone or the profile no longer
// owns it.
func (s *Syncer) ownedSpaceStatus(ctx context.Context, profile, space string) (smtypes.SpaceStatus, bool, error) {
	out, err := s.sm.DescribeSpace(ctx, &sagemaker.DescribeSpaceInput{DomainId: &s.aws.SageMaker.DomainID, SpaceName: &space})
	if bridgeaws.Classify(err) == bridgeaws.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("describe space %s: %w", space, err)
	}
	if out.OwnershipSettings == nil || sdkaws.ToString(out.OwnershipSettings.OwnerUserProfileName) != profile {
		s.log.WarnContext(ctx, "space changed owner since it was listed; left alone", "space", space, "profile", profile)
		return "", false, nil
	}
	return out.Status, true, nil
}

// deleteApps deletes every InService app the filter selects and reports
// whether any app still blocks (anything but Deleted or Failed: ListApps
// keeps listing Deleted apps, and Failed apps neither block nor delete).
func (s *Syncer) deleteApps(ctx context.Context, filter *sagemaker.ListAppsInput) (bool, error) {
	busy := false
	in := *filter
	in.DomainIdEquals, in.MaxResults = &s.aws.SageMaker.DomainID, sdkaws.Int32(100)
	for {
		page, err := s.sm.ListApps(ctx, &in)
		if err != nil {
			return false, fmt.Errorf("list apps: %w", err)
		}
		for _, app := range page.Apps {
			switch app.Status {
			case smtypes.AppStatusDeleted, smtypes.AppStatusFailed:
				continue
			case smtypes.AppStatusInService:
				err := s.w.deleteApp(ctx, &sagemaker.DeleteAppInput{DomainId: &s.aws.SageMaker.DomainID,
					AppName: app.AppName, AppType: app.AppType, UserProfileName: app.UserProfileName, SpaceName: app.SpaceName})
				if c := bridgeaws.Classify(err); err != nil && c != bridgeaws.NotFound && c != bridgeaws.Conflict {
					return false, fmt.Errorf("delete app %s: %w", sdkaws.ToString(app.AppName), err)
				}
			}
			busy = true
		}
		if sdkaws.ToString(page.NextToken) == "" {
			return busy, nil
		}
		in.NextToken = page.NextToken
	}
}
