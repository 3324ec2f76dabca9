package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// StateOptions choose which earlier version of a state file to restore:
// VersionID, else the version current at At, else the one before the
// current version.
type StateOptions struct {
	VersionID string
	At        time.Time
	DryRun    bool
	// Who goes into the lock, as Terraform writes "user@host".
	Who string
	// Now stamps the lock; nil means time.Now.
	Now func() time.Time
}

// LockSuffix is what Terraform's S3 backend (use_lockfile) appends to the
// state key for its lock object.
const LockSuffix = ".tflock"

// LockInfo is Terraform's lock file format (statemgr.LockInfo), so
// `terraform force-unlock <ID>` and Terraform's "state locked" message
// understand a lock spctl holds, and spctl understands Terraform's.
type LockInfo struct {
	ID        string `json:"ID"`
	Operation string `json:"Operation"`
	Info      string `json:"Info"`
	Who       string `json:"Who"`
	Version   string `json:"Version"`
	Created   string `json:"Created"`
	Path      string `json:"Path"`
}

// LockedError says who holds the stack's lock: a plan or apply is running
// (or one was killed and left its lock, which `terraform force-unlock`
// releases once you know nothing is running).
type LockedError struct{ Holder LockInfo }

func (e *LockedError) Error() string {
	h := e.Holder
	return fmt.Sprintf("the state is locked (ID %s, %s by %s since %s): wait for it to finish; if it was killed, release the lock with "+
		"`terraform force-unlock %s` in the stack's directory and run this again", h.ID, h.Operation, h.Who, h.Created, h.ID)
}

// StateReport says what a state restore did (or would do).
type StateReport struct {
	Key             string
	FromVersion     string // the version that was current
	ToVersion       string // the version restored
	Serial, WasThen int64  // serial of the current state and of the restored one
	Written         bool
}

// terraformState is the part of a state file the checks read.
type terraformState struct {
	Version int    `json:"version"`
	Serial  int64  `json:"serial"`
	Lineage string `json:"lineage"`
}

// RestoreState makes an earlier version of bucket/key the current state
// again, under the stack's lock: it takes the lock exactly as Terraform
// does (a conditional write of <key>.tflock that fails if it exists),
// refuses while a plan or apply holds it, copies the version back and
// releases the lock. It refuses a version that is not a Terraform state or
// belongs to another lineage (another stack's state).
func RestoreState(ctx context.Context, out io.Writer, s3c S3API, bucket, key string, o StateOptions) (*StateReport, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	versions, current, err := stateVersions(ctx, s3c, bucket, key)
	if err != nil {
		return nil, err
	}
	target, err := pickStateVersion(versions, current, o)
	if err != nil {
		return nil, err
	}
	rep := &StateReport{Key: key, ToVersion: target.versionID}
	then, err := readState(ctx, s3c, bucket, key, target.versionID)
	if err != nil {
		return nil, err
	}
	rep.WasThen = then.Serial
	if current != nil && !current.marker {
		rep.FromVersion = current.versionID
		now, err := readState(ctx, s3c, bucket, key, current.versionID)
		if err != nil {
			return nil, err
		}
		if now.Lineage != then.Lineage {
			return nil, fmt.Errorf("version %s of %s has lineage %s, the current state %s: it is another state's history, not this stack's", target.versionID, key, then.Lineage, now.Lineage)
		}
		rep.Serial = now.Serial
	}
	fmt.Fprintf(out, "s3://%s/%s: current version %s (serial %d) -> version %s of %s (serial %d)\n",
		bucket, key, orNone(rep.FromVersion), rep.Serial, target.versionID, target.modified.UTC().Format(time.RFC3339), then.Serial)
	if o.DryRun {
		return rep, nil
	}
	lock, err := takeLock(ctx, s3c, bucket, key, o)
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "  lock %s taken (%s%s)\n", lock.ID, key, LockSuffix)
	_, copyErr := func() (*s3.CopyObjectOutput, error) {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return s3c.CopyObject(cctx, &s3.CopyObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(copySource(bucket, key, target.versionID)),
		})
	}()
	if err := releaseLock(ctx, s3c, bucket, key, lock); err != nil {
		return rep, errors.Join(copyErr, err)
	}
	fmt.Fprintf(out, "  lock %s released\n", lock.ID)
	if copyErr != nil {
		return rep, fmt.Errorf("copy version %s back: %w", target.versionID, copyErr)
	}
	rep.Written = true
	return rep, nil
}

func orNone(s string) string {
	if s == "" {
		return "(none: deleted)"
	}
	return s
}

// stateVersions lists the entries of exactly key (the prefix also matches
// the .tflock object): its versions newest first, then its delete markers.
func stateVersions(ctx context.Context, s3c S3API, bucket, key string) ([]entry, *entry, error) {
	byKey, err := listEntries(ctx, s3c, bucket, key, func(k string) bool { return k == key })
	if err != nil {
		return nil, nil, err
	}
	es := byKey[key]
	if len(es) == 0 {
		return nil, nil, fmt.Errorf("s3://%s/%s has no version: is the stack deployed, and is --stack right?", bucket, key)
	}
	return es, current(es), nil
}

// pickStateVersion applies StateOptions to the versions.
func pickStateVersion(es []entry, cur *entry, o StateOptions) (*entry, error) {
	switch {
	case o.VersionID != "":
		for i := range es {
			if es[i].versionID == o.VersionID && !es[i].marker {
				return &es[i], nil
			}
		}
		return nil, fmt.Errorf("--version-id %s is not a version of this state file", o.VersionID)
	case !o.At.IsZero():
		if e := stateAt(es, o.At); e != nil && !e.marker {
			return e, nil
		}
		return nil, fmt.Errorf("the state file did not exist at %s", o.At.UTC().Format(time.RFC3339))
	}
	// The version listed after the current one: S3 lists a key's versions
	// newest first (timestamps have whole seconds, so two writes in the
	// same second are ordered only by the list). When the current entry is
	// a delete marker, the newest version.
	for i := range es {
		if es[i].marker {
			break // versions come first, in list order
		}
		if cur == nil || cur.marker {
			return &es[i], nil
		}
		if &es[i] == cur && i+1 < len(es) && !es[i+1].marker {
			return &es[i+1], nil
		}
	}
	return nil, errors.New("the state file has no earlier version (versions are kept for the state bucket's noncurrent retention)")
}

func readState(ctx context.Context, s3c S3API, bucket, key, versionID string) (*terraformState, error) {
	gctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj, err := s3c.GetObject(gctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(versionID)})
	if err != nil {
		return nil, fmt.Errorf("read version %s of %s: %w", versionID, key, err)
	}
	defer obj.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(obj.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read version %s of %s: %w", versionID, key, err)
	}
	var st terraformState
	if err := json.Unmarshal(raw, &st); err != nil || st.Version != 4 || st.Lineage == "" {
		return nil, fmt.Errorf("version %s of %s is not a Terraform state file (format 4 with a lineage): %s", versionID, key, trimmed(raw))
	}
	return &st, nil
}

// takeLock writes the lock object only if none exists (If-None-Match: *),
// which is how Terraform's S3 backend locks: whichever write lands first
// holds the lock, the other gets 412 Precondition Failed.
func takeLock(ctx context.Context, s3c S3API, bucket, key string, o StateOptions) (*LockInfo, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	hexID := hex.EncodeToString(id)
	lock := &LockInfo{
		ID:        hexID[:8] + "-" + hexID[8:12] + "-" + hexID[12:16] + "-" + hexID[16:20] + "-" + hexID[20:],
		Operation: "spctl restore state", Who: o.Who, Version: "spctl",
		Created: o.Now().UTC().Format(time.RFC3339Nano), Path: bucket + "/" + key,
	}
	body, err := json.Marshal(lock)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err = s3c.PutObject(pctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key + LockSuffix), Body: strings.NewReader(string(body)),
		IfNoneMatch: aws.String("*"), ContentType: aws.String("application/json"),
	})
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict") {
		holder, rerr := readLock(ctx, s3c, bucket, key)
		if rerr != nil {
			return nil, fmt.Errorf("the state is locked and the lock cannot be read: %w", rerr)
		}
		return nil, &LockedError{Holder: *holder}
	}
	if err != nil {
		return nil, fmt.Errorf("take the lock %s%s: %w", key, LockSuffix, err)
	}
	return lock, nil
}

func readLock(ctx context.Context, s3c S3API, bucket, key string) (*LockInfo, error) {
	gctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj, err := s3c.GetObject(gctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + LockSuffix)})
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(obj.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var l LockInfo
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("lock %s%s is not a Terraform lock: %s", key, LockSuffix, trimmed(raw))
	}
	return &l, nil
}

// releaseLock deletes the lock if it is still ours; it runs even when the
// caller's context was cancelled (Ctrl-C), or the lock would outlive us.
func releaseLock(ctx context.Context, s3c S3API, bucket, key string, lock *LockInfo) error {
	ctx = context.WithoutCancel(ctx)
	held, err := readLock(ctx, s3c, bucket, key)
	if err != nil {
		return fmt.Errorf("release lock %s: %w", lock.ID, err)
	}
	if held.ID != lock.ID {
		return fmt.Errorf("release lock %s: the lock now belongs to %s (%s by %s); left it alone", lock.ID, held.ID, held.Operation, held.Who)
	}
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := s3c.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + LockSuffix)}); err != nil {
		return fmt.Errorf("release lock %s: %w (release it with `terraform force-unlock %s`)", lock.ID, err, lock.ID)
	}
	return nil
}
