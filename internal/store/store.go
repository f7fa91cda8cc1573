// Package store defines the records sagebridge keeps, the Store interface
// every backend implements, and the sentinel errors callers match on.
//
// A Store is durable: when a write method returns nil the change is on disk.
// Every write to a user, a group or a membership enqueues, in the same
// transaction, the queue keys the sync engine must look at, so a change is
// never acknowledged and then lost between the store and AWS.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound: no record with that id or name.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique attribute (userName, group displayName, token
	// name) is already taken by another record.
	ErrConflict = errors.New("conflict")
	// ErrVersionMismatch: the record changed since the version the caller
	// based its update on.
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrInvalidReference: a membership names a user that does not exist.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrAlreadySeen: a one-time id (a SAML assertion ID, a picker token)
	// was recorded before and has not expired out of the store yet.
	ErrAlreadySeen = errors.New("already seen")
)

// Meta is the bookkeeping every resource carries. Version starts at 1 and
// grows by one with every change of the resource, so it can serve as an ETag.
type Meta struct {
	Version  uint64    `json:"version"`
	Created  time.Time `json:"created"`
	Modified time.Time `json:"modified"`
}

// User is a SCIM User. The fields other than Data are copies of attributes
// found in Data, extracted by the caller, that the store indexes.
type User struct {
	ID         string   `json:"id"`
	UserName   string   `json:"userName"`
	ExternalID string   `json:"externalId,omitempty"`
	Active     bool     `json:"active"`
	Emails     []string `json:"emails,omitempty"`
	// Data is the SCIM resource as a JSON object without id, meta and groups.
	Data json.RawMessage `json:"data"`
	Meta
}

// Group is a SCIM Group without its members: memberships are records of
// their own so that changing one member of a large group stays cheap.
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	ExternalID  string `json:"externalId,omitempty"`
	// Data is the SCIM resource as a JSON object without id, meta and members.
	Data json.RawMessage `json:"data"`
	Meta
}

// GroupChange is what an update of a group writes. A nil Group keeps the
// group's attributes. With ReplaceMembers the membership becomes exactly
// Add; otherwise Remove is applied, then Add. Every changed membership
// enqueues its user.
type GroupChange struct {
	Group          *Group
	ReplaceMembers bool
	Add            []string
	Remove         []string
}

// Index names an attribute the store can look records up by.
type Index string

const (
	IndexUserName        Index = "userName"   // case-insensitive, unique
	IndexUserExternalID  Index = "externalId" // case-exact
	IndexUserEmail       Index = "email"      // case-insensitive
	IndexGroupName       Index = "displayName"
	IndexGroupExternalID Index = "groupExternalId"
)

// Lookup asks an index for the ids whose attribute equals Value, or starts
// with it when Prefix is set. Case-insensitive indexes fold Value themselves.
type Lookup struct {
	Index  Index
	Value  string
	Prefix bool
}

// Page is one slice of a scan in id (or key) order. Next is empty on the
// last page; otherwise it is the "after" of the next page.
type Page[T any] struct {
	Items []T
	Next  string
}

// QueueItem is a key the sync engine must reconcile ("user/<id>",
// "group/<id>", ...). Gen changes every time the key is enqueued again, so
// completing a stale generation leaves the newer request in place.
// RequestID is the id of the request (as internal/requestid carries it)
// whose write queued the key last: the reconcile it causes logs under the
// same id, so a SCIM request can be followed to the AWS calls it caused,
// also across a restart.
type QueueItem struct {
	Key       string    `json:"key"`
	Due       time.Time `json:"due"`
	Gen       uint64    `json:"gen"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
}

// QueueCounts are exact counts over the queue.
type QueueCounts struct {
	// Due is how many items are due at or before the time asked about.
	Due int
	// Retrying is how many items have failed at least once (attempts or a
	// last error).
	Retrying int
	// Next is the earliest due time, zero when the queue is empty.
	Next time.Time
}

// StatusRecord is one status record: what the sync engine remembers about a
// queue key, kept by the store as opaque bytes it never interprets.
type StatusRecord struct {
	Key  string
	Data []byte
}

// Token is a named SCIM bearer token. Only its SHA-256 hash is kept.
type Token struct {
	Name    string    `json:"name"`
	Hash    []byte    `json:"hash"`
	Created time.Time `json:"created"`
}

// Stats are counts kept up to date by every write, so reading them is O(1).
type Stats struct {
	Users      int
	Groups     int
	QueueDepth int
}

// SigningKey is one of the bridge's SAML IdP signing keys. The key whose
// SignFrom is the latest one not after now signs; a key whose SignFrom is
// still ahead is published in the metadata so that AWS knows it before it
// signs anything.
type SigningKey struct {
	// ID orders keys: each new key takes the next decimal number.
	ID string `json:"id"`
	// PrivateKey is PKCS #8 DER, Certificate X.509 DER.
	PrivateKey  []byte    `json:"privateKey"`
	Certificate []byte    `json:"certificate"`
	Created     time.Time `json:"created"`
	SignFrom    time.Time `json:"signFrom"`
}

// UserUpdate returns the new state of a user from its current one. It may be
// called more than once by a single update and must have no side effects.
type UserUpdate func(cur User) (User, error)

// GroupUpdate returns the change to apply to a group from its current state.
// It may be called more than once and must have no side effects.
type GroupUpdate func(cur Group) (GroupChange, error)

// Store keeps users, groups, memberships, the sync queue and SCIM tokens.
// Every method is safe for concurrent use.
type Store interface {
	// CreateUser stores u with Version 1 and Created = Modified = now, and
	// returns the stored record. u.ID must be set by the caller.
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	// UpdateUser applies fn to the current user; fn may return
	// ErrVersionMismatch (or any error) to abort. The stored record gets the
	// next Version and Modified = now; ID and Created cannot change. When fn
	// returns the user unchanged nothing is written and the current record
	// is returned as it is.
	UpdateUser(ctx context.Context, id string, fn UserUpdate) (User, error)
	// DeleteUser removes the user, its index entries and its memberships.
	// ifVersion 0 means unconditional. The status record of the user's
	// queue key stays: see PutStatus.
	DeleteUser(ctx context.Context, id string, ifVersion uint64) error
	// LookupUsers returns the ids matching l, in id order.
	LookupUsers(ctx context.Context, l Lookup) ([]string, error)
	// ScanUsers returns up to limit users with ids after the given one.
	ScanUsers(ctx context.Context, after string, limit int) (Page[User], error)
	// UserIDs returns up to limit user ids in id order after skipping
	// offset of them. Skipping reads keys only, so a deep page of an
	// unfiltered listing does not decode the records before it.
	UserIDs(ctx context.Context, offset, limit int) ([]string, error)
	// ScanUserIDs is ScanUsers without the records: a walk over every
	// user costs a step per id, where UserIDs would skip its way to each
	// page again.
	ScanUserIDs(ctx context.Context, after string, limit int) (Page[string], error)

	// CreateGroup stores g and its initial members (which must exist).
	CreateGroup(ctx context.Context, g Group, members []string) (Group, error)
	GetGroup(ctx context.Context, id string) (Group, error)
	// UpdateGroup applies the change fn returns in one transaction. Every
	// call that changes the group bumps its Version, membership-only changes
	// included; a change that alters neither the attributes nor the
	// membership writes nothing and returns the current record as it is.
	UpdateGroup(ctx context.Context, id string, fn GroupUpdate) (Group, error)
	DeleteGroup(ctx context.Context, id string, ifVersion uint64) error
	LookupGroups(ctx context.Context, l Lookup) ([]string, error)
	ScanGroups(ctx context.Context, after string, limit int) (Page[Group], error)
	GroupIDs(ctx context.Context, offset, limit int) ([]string, error)

	// Members calls fn for every member id of the group, in id order.
	Members(ctx context.Context, groupID string, fn func(userID string) error) error
	IsMember(ctx context.Context, groupID, userID string) (bool, error)
	// GroupsOf returns the ids of the groups the user belongs to.
	GroupsOf(ctx context.Context, userID string) ([]string, error)
	// UserGroups returns the groups the user belongs to, in id order, as
	// one moment saw them: a group is there with its membership.
	UserGroups(ctx context.Context, userID string) ([]Group, error)

	// Enqueue puts keys on the sync queue, due now.
	Enqueue(ctx context.Context, keys ...string) error
	// DueItems returns up to limit items due at or before now, earliest first.
	DueItems(ctx context.Context, now time.Time, limit int) ([]QueueItem, error)
	// NextDue returns the earliest due time, or false when the queue is empty.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Complete removes the item if it is still at generation gen.
	Complete(ctx context.Context, key string, gen uint64) error
	// Reschedule moves the item to due with the given attempt count and
	// error, if it is still at generation gen.
	Reschedule(ctx context.Context, key string, gen uint64, due time.Time, attempts int, lastErr string) error
	// QueueChanged is signalled (without blocking) after every commit that
	// enqueued something.
	QueueChanged() <-chan struct{}
	// QueueItem returns the queued item of key, ErrNotFound when the key is
	// not queued.
	QueueItem(ctx context.Context, key string) (QueueItem, error)
	// CountQueue counts the whole queue: the items due at or before dueBy
	// and the items retrying after an error. It reads every item, so it is
	// for status reports, not for the sync's own path.
	CountQueue(ctx context.Context, dueBy time.Time) (QueueCounts, error)

	// PutStatus stores data as the status record of key, replacing any
	// record it had. Status records belong to the sync engine: no other
	// write creates or removes one. In particular DeleteUser and
	// DeleteGroup keep the record of the deleted key, because the sync
	// still needs what it recorded there (the user's profile name) to
	// remove what it made in AWS; the sync deletes the record when it is
	// done.
	PutStatus(ctx context.Context, key string, data []byte) error
	// GetStatus returns the record of key, ErrNotFound when there is none.
	// The caller owns the returned bytes.
	GetStatus(ctx context.Context, key string) ([]byte, error)
	// DeleteStatus removes the record of key, ErrNotFound when there is
	// none.
	DeleteStatus(ctx context.Context, key string) error
	// ScanStatus returns up to limit records with keys after the given
	// one, in key order.
	ScanStatus(ctx context.Context, after string, limit int) (Page[StatusRecord], error)

	CreateToken(ctx context.Context, t Token) error
	Tokens(ctx context.Context) ([]Token, error)
	DeleteToken(ctx context.Context, name string) error

	// MarkSeen records a one-time id until expires. Checking and recording
	// are one transaction: of two calls with the same id exactly one
	// succeeds, the other gets ErrAlreadySeen (also after a restart, until
	// PruneSeen removes the id).
	MarkSeen(ctx context.Context, id string, expires time.Time) error
	// StartMarkSeen is MarkSeen in two steps: it claims id and starts
	// making the record durable; wait returns what MarkSeen would, once
	// the record is durable, so the caller's work in between overlaps the
	// disk. Call wait exactly once.
	StartMarkSeen(ctx context.Context, id string, expires time.Time) (wait func() error)
	// PruneSeen removes up to limit ids whose expiry is before the given
	// time, earliest first, and returns how many it removed. Its cost grows
	// with limit, not with the number of ids kept.
	PruneSeen(ctx context.Context, before time.Time, limit int) (int, error)

	// CreateSigningKey stores k; ErrConflict when its ID is taken, so that
	// two concurrent rotations cannot both add a key.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns every key, in ID order (oldest first).
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteSigningKey removes a key, ErrNotFound if there is none.
	DeleteSigningKey(ctx context.Context, id string) error

	// PutSAMLMeta stores a small named blob of the sign-in (the cached
	// upstream IdP metadata), replacing any it had.
	PutSAMLMeta(ctx context.Context, name string, data []byte) error
	// SAMLMeta returns the named blob, ErrNotFound if there is none. The
	// caller owns the returned bytes.
	SAMLMeta(ctx context.Context, name string) ([]byte, error)
	// InitSAMLMeta stores data under name unless the name is taken, and
	// returns what is stored afterwards: callers racing to create a secret
	// all end up with the same one.
	InitSAMLMeta(ctx context.Context, name string, data []byte) ([]byte, error)

	Stats(ctx context.Context) (Stats, error)
	// Backup writes a consistent copy of the whole store to w.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	Close() error
}

// UserKey and GroupKey are the queue keys of a user and of a group.
func UserKey(id string) string  { return "user/" + id }
func GroupKey(id string) string { return "group/" + id }
