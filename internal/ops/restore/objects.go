package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API is what the object and state restores call.
type S3API interface {
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
}

// RestoredFromTag marks a version written by a restore with the version it
// copies, so a second run of the same restore sees the key as restored
// (the copy has a new version id, and under SSE-KMS a different ETag).
const RestoredFromTag = "spatialprops:restored-from"

// Deadlines of single calls: listing and metadata answer in seconds; a
// server-side copy of a multi-gigabyte pack part may take minutes.
var (
	callTimeout = 2 * time.Minute
	copyTimeout = 30 * time.Minute
)

// CopyObject copies at most 5 GiB; larger versions (a big PMTiles pack)
// are copied in parts of partSize. Variables so tests can use small ones.
var (
	copyLimit int64 = 5 << 30
	partSize  int64 = 512 << 20
)

// Selector chooses the objects: every key under Prefix, or exactly Key.
type Selector struct {
	Prefix string
	Key    string
}

func (s Selector) listPrefix() string {
	if s.Key != "" {
		return s.Key
	}
	return s.Prefix
}

func (s Selector) matches(key string) bool { return s.Key == "" || key == s.Key }

// ObjectChange is one key whose current state differs from its state at
// the restore time and that the restore will put back.
type ObjectChange struct {
	Key string
	// VersionID is the version that was current at the restore time; it
	// is copied back as a new current version.
	VersionID string
	Size      int64
	// Now says what happened since: "deleted" or "overwritten".
	Now string
}

// ObjectsPlan is what restoring a selection to a time would do.
type ObjectsPlan struct {
	Bucket    string
	Selector  Selector
	At        time.Time
	Restore   []ObjectChange
	Unchanged int
	// Newer are keys created after At: they are kept (a restore never
	// deletes), and listed so the operator can remove them if they must go.
	Newer []string
}

// entry is one version or delete marker of a key.
type entry struct {
	versionID string
	modified  time.Time
	latest    bool
	marker    bool
	size      int64
}

// PlanObjects lists every version and delete marker of the selection and
// works out, key by key, which version was current at `at` and whether
// that is what is current now.
func PlanObjects(ctx context.Context, s3c S3API, bucket string, sel Selector, at time.Time) (*ObjectsPlan, error) {
	vctx, cancel := context.WithTimeout(ctx, callTimeout)
	v, err := s3c.GetBucketVersioning(vctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("versioning of %s: %w", bucket, err)
	}
	if v.Status != s3types.BucketVersioningStatusEnabled {
		return nil, fmt.Errorf("%s is not versioned (status %q): there is no earlier version to restore", bucket, v.Status)
	}
	keys, err := listEntries(ctx, s3c, bucket, sel.listPrefix(), sel.matches)
	if err != nil {
		return nil, err
	}
	plan := &ObjectsPlan{Bucket: bucket, Selector: sel, At: at}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		then, now := stateAt(keys[k], at), current(keys[k])
		switch {
		case then == nil && now != nil && !now.marker:
			plan.Newer = append(plan.Newer, k)
		case then == nil || then.marker:
			plan.Unchanged++ // absent then; absent or only a marker now
		case now != nil && now.versionID == then.versionID:
			plan.Unchanged++
		case now == nil || now.marker:
			plan.Restore = append(plan.Restore, ObjectChange{Key: k, VersionID: then.versionID, Size: then.size, Now: "deleted"})
		default:
			from, err := restoredFrom(ctx, s3c, bucket, k, now.versionID)
			if err != nil {
				return nil, err
			}
			if from == then.versionID {
				plan.Unchanged++ // an earlier run of this restore wrote it
				continue
			}
			plan.Restore = append(plan.Restore, ObjectChange{Key: k, VersionID: then.versionID, Size: then.size, Now: "overwritten"})
		}
	}
	return plan, nil
}

// restoredFrom reads RestoredFromTag of one version ("" when absent).
func restoredFrom(ctx context.Context, s3c S3API, bucket, key, versionID string) (string, error) {
	tags, err := versionTags(ctx, s3c, bucket, key, versionID)
	if err != nil {
		return "", err
	}
	for _, t := range tags {
		if aws.ToString(t.Key) == RestoredFromTag {
			return aws.ToString(t.Value), nil
		}
	}
	return "", nil
}

func versionTags(ctx context.Context, s3c S3API, bucket, key, versionID string) ([]s3types.Tag, error) {
	tctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out, err := s3c.GetObjectTagging(tctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(versionID)})
	if err != nil {
		return nil, fmt.Errorf("tags of %s (version %s): %w", key, versionID, err)
	}
	return out.TagSet, nil
}

// maxTags is S3's limit of tags per object version.
const maxTags = 10

// restoreTagging is the x-amz-tagging of the copy: the source version's
// own tags plus RestoredFromTag (unless the source already has the
// maximum, in which case only its own: a rerun then copies it again,
// which is harmless).
func restoreTagging(ctx context.Context, s3c S3API, bucket, key, versionID string) (string, error) {
	tags, err := versionTags(ctx, s3c, bucket, key, versionID)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	for _, t := range tags {
		if aws.ToString(t.Key) != RestoredFromTag {
			q.Set(aws.ToString(t.Key), aws.ToString(t.Value))
		}
	}
	if len(q) < maxTags {
		q.Set(RestoredFromTag, versionID)
	}
	return q.Encode(), nil
}

// listEntries lists every version and delete marker under prefix whose key
// keep accepts, by key: each key's versions in S3's order (newest first),
// then its delete markers.
func listEntries(ctx context.Context, s3c S3API, bucket, prefix string, keep func(string) bool) (map[string][]entry, error) {
	versions, markers := map[string][]entry{}, map[string][]entry{}
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	for {
		lctx, cancel := context.WithTimeout(ctx, callTimeout)
		page, err := s3c.ListObjectVersions(lctx, in)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list versions of s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Versions {
			if k := aws.ToString(o.Key); keep(k) {
				versions[k] = append(versions[k], entry{aws.ToString(o.VersionId), aws.ToTime(o.LastModified), aws.ToBool(o.IsLatest), false, aws.ToInt64(o.Size)})
			}
		}
		for _, m := range page.DeleteMarkers {
			if k := aws.ToString(m.Key); keep(k) {
				markers[k] = append(markers[k], entry{aws.ToString(m.VersionId), aws.ToTime(m.LastModified), aws.ToBool(m.IsLatest), true, 0})
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	for k, m := range markers {
		versions[k] = append(versions[k], m...)
	}
	return versions, nil
}

// stateAt is the newest entry written at or before at. S3 lists each
// key's versions newest first; a version and a marker written in the same
// second are told apart by that order only within each list, so ties go
// to the current one.
func stateAt(es []entry, at time.Time) *entry {
	var best *entry
	for i := range es {
		e := &es[i]
		if e.modified.After(at) {
			continue
		}
		if best == nil || e.modified.After(best.modified) || (e.modified.Equal(best.modified) && e.latest) {
			best = e
		}
	}
	return best
}

func current(es []entry) *entry {
	for i := range es {
		if es[i].latest {
			return &es[i]
		}
	}
	return nil
}

// Print writes the plan for a person.
func (p *ObjectsPlan) Print(out io.Writer) {
	what := "s3://" + p.Bucket + "/" + p.Selector.listPrefix()
	fmt.Fprintf(out, "%s as of %s: %d to restore, %d unchanged, %d created since (kept)\n",
		what, p.At.UTC().Format(time.RFC3339), len(p.Restore), p.Unchanged, len(p.Newer))
	for _, c := range p.Restore {
		fmt.Fprintf(out, "  restore %s (%s since; version %s, %d bytes)\n", c.Key, c.Now, c.VersionID, c.Size)
	}
	for _, k := range p.Newer {
		fmt.Fprintf(out, "  keep    %s (created after %s)\n", k, p.At.UTC().Format(time.RFC3339))
	}
}

// Apply copies each planned version back as the key's new current version
// (history is kept: the deleted or overwriting version stays a noncurrent
// version). It stops at the first failure; running the same restore again
// finds the keys already restored unchanged and carries on.
func (p *ObjectsPlan) Apply(ctx context.Context, out io.Writer, s3c S3API) (int, error) {
	done := 0
	for _, c := range p.Restore {
		if err := copyVersion(ctx, s3c, p.Bucket, c.Key, c.VersionID, c.Size); err != nil {
			return done, fmt.Errorf("restore s3://%s/%s (version %s): %w", p.Bucket, c.Key, c.VersionID, err)
		}
		done++
		fmt.Fprintf(out, "  restored %s (%d/%d)\n", c.Key, done, len(p.Restore))
	}
	return done, nil
}

// copySource is the x-amz-copy-source of one version: the key URL-encoded.
func copySource(bucket, key, versionID string) string {
	return bucket + "/" + url.PathEscape(key) + "?versionId=" + url.QueryEscape(versionID)
}

// copyVersion makes versionID of key the current version again, tagged
// with where it came from.
func copyVersion(ctx context.Context, s3c S3API, bucket, key, versionID string, size int64) error {
	tagging, err := restoreTagging(ctx, s3c, bucket, key, versionID)
	if err != nil {
		return err
	}
	if size <= copyLimit {
		cctx, cancel := context.WithTimeout(ctx, copyTimeout)
		defer cancel()
		_, err := s3c.CopyObject(cctx, &s3.CopyObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(copySource(bucket, key, versionID)),
			TaggingDirective: s3types.TaggingDirectiveReplace, Tagging: aws.String(tagging),
		})
		return err
	}
	return copyInParts(ctx, s3c, bucket, key, versionID, size, tagging)
}

// copyInParts copies a version larger than CopyObject allows, keeping its
// content type and metadata. A failed copy is aborted, so no half-written
// upload lingers (the buckets also abort them by lifecycle).
func copyInParts(ctx context.Context, s3c S3API, bucket, key, versionID string, size int64, tagging string) error {
	hctx, cancel := context.WithTimeout(ctx, callTimeout)
	head, err := s3c.HeadObject(hctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(versionID)})
	cancel()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	up, err := s3c.CreateMultipartUpload(cctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		ContentType: head.ContentType, ContentEncoding: head.ContentEncoding, CacheControl: head.CacheControl, Metadata: head.Metadata,
		Tagging: aws.String(tagging),
	})
	cancel()
	if err != nil {
		return err
	}
	abort := func(cause error) error {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
		defer cancel()
		if _, err := s3c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId}); err != nil {
			return errors.Join(cause, fmt.Errorf("abort upload %s: %w", aws.ToString(up.UploadId), err))
		}
		return cause
	}
	var parts []s3types.CompletedPart
	for n, start := int32(1), int64(0); start < size; n, start = n+1, start+partSize {
		end := min(start+partSize, size) - 1
		pctx, cancel := context.WithTimeout(ctx, copyTimeout)
		res, err := s3c.UploadPartCopy(pctx, &s3.UploadPartCopyInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(n),
			CopySource: aws.String(copySource(bucket, key, versionID)), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", start, end)),
		})
		cancel()
		if err != nil {
			return abort(fmt.Errorf("part %d: %w", n, err))
		}
		parts = append(parts, s3types.CompletedPart{ETag: res.CopyPartResult.ETag, PartNumber: aws.Int32(n)})
	}
	fctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := s3c.CompleteMultipartUpload(fctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return abort(err)
	}
	return nil
}

// trimmed shortens a body for an error message.
func trimmed(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
