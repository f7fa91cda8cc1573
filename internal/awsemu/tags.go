package awsemu

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Tag is a key-value tag on an IAM or SageMaker resource.
type Tag struct {
	Key   string
	Value string
}

// maxTags is the tag limit of roles, SAML providers and SageMaker resources
// (reference rules 13 and 24).
const maxTags = 50

var (
	reTagKey   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	reTagValue = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// validateTags checks the tags of one request. IAM tag keys are
// case-insensitive (fold), SageMaker's are not.
func validateTags(service string, tags []Tag, fold bool) error {
	if len(tags) > maxTags {
		return constraintErr(service, "tags", fmt.Sprint(len(tags), " tags"), fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	seen := map[string]bool{}
	for i, t := range tags {
		if err := validateString(service, fmt.Sprintf("tags.%d.member.key", i+1), t.Key, 1, 128, reTagKey); err != nil {
			return err
		}
		if err := validateString(service, fmt.Sprintf("tags.%d.member.value", i+1), t.Value, 0, 256, reTagValue); err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return reservedTagErr(service, t.Key)
		}
		k := tagKey(t.Key, fold)
		if seen[k] {
			if service == serviceIAM {
				return iamErr("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
			return smErr("ValidationException", "Duplicate tag key %q in the request", t.Key)
		}
		seen[k] = true
	}
	return nil
}

// validateTagKeys checks the keys of an untag request.
func validateTagKeys(service string, keys []string) error {
	if len(keys) > maxTags {
		return constraintErr(service, "tagKeys", fmt.Sprint(len(keys), " keys"), fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	for i, k := range keys {
		if err := validateString(service, fmt.Sprintf("tagKeys.%d.member", i+1), k, 1, 128, reTagKey); err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return reservedTagErr(service, k)
		}
	}
	return nil
}

func reservedTagErr(service, key string) error {
	if service == serviceIAM {
		return iamErr("InvalidInput", "Tag key %q is invalid: the prefix 'aws:' is reserved for AWS use.", key)
	}
	return smErr("ValidationException", "Tag key %q is invalid: the prefix 'aws:' is reserved for AWS use.", key)
}

func tagKey(k string, fold bool) string {
	if fold {
		return strings.ToLower(k)
	}
	return k
}

// mergeTags adds tags over existing ones: a key already present gets the new
// value (AWS overwrites, reference rules 13 and 24). With fold, keys match
// regardless of case and the existing key keeps its case.
func mergeTags(existing, add []Tag, fold bool) []Tag {
	out := append([]Tag(nil), existing...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if tagKey(out[i].Key, fold) == tagKey(t.Key, fold) {
				out[i].Value = t.Value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// removeTags drops the given keys; absent keys are ignored, as AWS does.
func removeTags(existing []Tag, keys []string, fold bool) []Tag {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[tagKey(k, fold)] = true
	}
	var out []Tag
	for _, t := range existing {
		if !drop[tagKey(t.Key, fold)] {
			out = append(out, t)
		}
	}
	return out
}

// sortedTags returns tags ordered by key, the order listings page through.
func sortedTags(tags []Tag, fold bool) []Tag {
	out := append([]Tag(nil), tags...)
	sort.Slice(out, func(i, j int) bool { return tagKey(out[i].Key, fold) < tagKey(out[j].Key, fold) })
	return out
}
