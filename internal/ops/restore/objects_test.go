package restore

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

func s3Client(t *testing.T) *s3.Client {
	return s3.NewFromConfig(opstest.AWS(t, motoserver.Region), func(o *s3.Options) { o.UsePathStyle = true })
}

// newBucket creates a bucket, versioned unless unversioned is set.
func newBucket(t *testing.T, c *s3.Client, versioned bool) string {
	t.Helper()
	ctx := context.Background()
	bucket := motoserver.UniqueName("restore")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: motoserver.Region}})
	require.NoError(t, err)
	if versioned {
		_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
		require.NoError(t, err)
	}
	return bucket
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body), ContentType: aws.String("application/vnd.pmtiles")})
	require.NoError(t, err)
}

func del(t *testing.T, c *s3.Client, bucket, key string) {
	t.Helper()
	_, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
}

// body returns the current content of key, or "" when it is deleted.
func body(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	o, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return ""
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	require.NoError(t, err)
	return string(b)
}

// pause separates "before" from "after": S3 timestamps have whole seconds.
func pause() time.Time {
	time.Sleep(1100 * time.Millisecond)
	at := time.Now()
	time.Sleep(1100 * time.Millisecond)
	return at
}

// GIVEN a pack whose tiles were overwritten and whose metadata was deleted
// after a point in time WHEN the pack's prefix is restored to that time
// THEN both come back as new current versions, the unchanged file and the
// file created since are left alone, nothing of the history is deleted,
// and running the restore again changes nothing.
func TestRestoreObjectsBringsBackDeletedAndOverwritten(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	prefix := "published/open/parcels/3/"
	put(t, c, bucket, prefix+"parcels.pmtiles", "tiles v3")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(prefix + "attestation.json"), Body: strings.NewReader("signed"), Tagging: aws.String("publisher=acme")})
	require.NoError(t, err)
	put(t, c, bucket, prefix+"README.md", "readme")
	put(t, c, bucket, "published/open/roads/1/roads.pmtiles", "another pack")
	at := pause()
	put(t, c, bucket, prefix+"parcels.pmtiles", "corrupted")
	del(t, c, bucket, prefix+"attestation.json")
	put(t, c, bucket, prefix+"extra.bin", "uploaded later")
	del(t, c, bucket, "published/open/roads/1/roads.pmtiles") // outside the prefix

	plan, err := PlanObjects(ctx, c, bucket, Selector{Prefix: prefix}, at)
	require.NoError(t, err)
	var out bytes.Buffer
	plan.Print(&out)
	t.Log("\n" + out.String())
	require.Len(t, plan.Restore, 2)
	assert.Equal(t, ObjectChange{Key: prefix + "attestation.json", VersionID: plan.Restore[0].VersionID, Size: 6, Now: "deleted"}, plan.Restore[0])
	assert.Equal(t, "overwritten", plan.Restore[1].Now)
	assert.Equal(t, 1, plan.Unchanged, "README.md")
	assert.Equal(t, []string{prefix + "extra.bin"}, plan.Newer)

	n, err := plan.Apply(ctx, &out, c)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, "tiles v3", body(t, c, bucket, prefix+"parcels.pmtiles"))
	assert.Equal(t, "signed", body(t, c, bucket, prefix+"attestation.json"))
	tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: aws.String(prefix + "attestation.json")})
	require.NoError(t, err)
	got := map[string]string{}
	for _, tg := range tags.TagSet {
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	assert.Equal(t, map[string]string{"publisher": "acme", RestoredFromTag: plan.Restore[0].VersionID}, got, "the version's own tags survive the restore")
	assert.Equal(t, "uploaded later", body(t, c, bucket, prefix+"extra.bin"), "a restore never deletes")
	assert.Equal(t, "", body(t, c, bucket, "published/open/roads/1/roads.pmtiles"), "outside the prefix: untouched")
	versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String(prefix + "parcels.pmtiles")})
	require.NoError(t, err)
	assert.Len(t, versions.Versions, 3, "the corrupted version stays in history")

	again, err := PlanObjects(ctx, c, bucket, Selector{Prefix: prefix}, at)
	require.NoError(t, err)
	assert.Empty(t, again.Restore, "a second run finds nothing to do")
}

// GIVEN two keys sharing a prefix WHEN one key is restored by --key THEN
// the other, also deleted, stays deleted.
func TestRestoreObjectsByKeyTouchesOnlyThatKey(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	put(t, c, bucket, "a.pmtiles", "a")
	put(t, c, bucket, "a.pmtiles.bak", "bak")
	at := pause()
	del(t, c, bucket, "a.pmtiles")
	del(t, c, bucket, "a.pmtiles.bak")
	plan, err := PlanObjects(ctx, c, bucket, Selector{Key: "a.pmtiles"}, at)
	require.NoError(t, err)
	_, err = plan.Apply(ctx, io.Discard, c)
	require.NoError(t, err)
	assert.Equal(t, "a", body(t, c, bucket, "a.pmtiles"))
	assert.Equal(t, "", body(t, c, bucket, "a.pmtiles.bak"))
}

// An unversioned bucket keeps no earlier version: say so instead of
// reporting "nothing to restore".
func TestRestoreObjectsRefusesAnUnversionedBucket(t *testing.T) {
	c := s3Client(t)
	bucket := newBucket(t, c, false)
	_, err := PlanObjects(context.Background(), c, bucket, Selector{}, time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not versioned")
}

// GIVEN a version larger than CopyObject's limit (scaled down here) WHEN
// it is restored THEN it is copied in parts, whole, with its content type.
func TestRestoreObjectsCopiesLargeVersionsInParts(t *testing.T) {
	oldLimit, oldPart := copyLimit, partSize
	copyLimit, partSize = 6<<20, 5<<20
	t.Cleanup(func() { copyLimit, partSize = oldLimit, oldPart })
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	big := strings.Repeat("0123456789abcdef", (11<<20)/16) // 11 MiB: three parts
	put(t, c, bucket, "big.pmtiles", big)
	at := pause()
	put(t, c, bucket, "big.pmtiles", "truncated")

	plan, err := PlanObjects(ctx, c, bucket, Selector{Key: "big.pmtiles"}, at)
	require.NoError(t, err)
	require.Len(t, plan.Restore, 1)
	assert.Greater(t, plan.Restore[0].Size, copyLimit)
	_, err = plan.Apply(ctx, io.Discard, c)
	require.NoError(t, err)
	assert.Equal(t, big, body(t, c, bucket, "big.pmtiles"))
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("big.pmtiles")})
	require.NoError(t, err)
	assert.Equal(t, "application/vnd.pmtiles", aws.ToString(head.ContentType))
}
