package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stateFile(serial int, lineage string) string {
	return fmt.Sprintf(`{"version":4,"terraform_version":"1.11.4","serial":%d,"lineage":%q,"outputs":{},"resources":[]}`, serial, lineage)
}

const stateKey = "dev/network.tfstate"

// GIVEN a state file whose latest apply lost resources WHEN the state is
// restored without a version THEN the version before the current one is
// current again, under a lock taken and released, and the bad version is
// still in history.
func TestRestoreStatePutsThePreviousVersionBack(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	put(t, c, bucket, stateKey, stateFile(1, "L1"))
	put(t, c, bucket, stateKey, stateFile(2, "L1"))
	put(t, c, bucket, stateKey, stateFile(3, "L1")) // the bad one
	put(t, c, bucket, "dev/network.tfstate.bak", stateFile(9, "L1"))

	var out bytes.Buffer
	rep, err := RestoreState(ctx, &out, c, bucket, stateKey, StateOptions{Who: "sre@laptop"})
	require.NoError(t, err)
	t.Log("\n" + out.String())
	assert.True(t, rep.Written)
	assert.Equal(t, int64(3), rep.Serial)
	assert.Equal(t, int64(2), rep.WasThen)
	assert.JSONEq(t, stateFile(2, "L1"), body(t, c, bucket, stateKey))
	assert.Equal(t, "", body(t, c, bucket, stateKey+LockSuffix), "the lock is released")
	assert.Contains(t, out.String(), " released")
	v, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String(stateKey)})
	require.NoError(t, err)
	n := 0
	for _, x := range v.Versions {
		if aws.ToString(x.Key) == stateKey {
			n++
		}
	}
	assert.Equal(t, 4, n, "history keeps every version, the bad one included")
}

// GIVEN a lock written by a running (or killed) Terraform, in Terraform's
// format WHEN a restore is attempted THEN it refuses, names the holder and
// how to release it, and leaves the state as it was.
func TestRestoreStateRespectsTerraformsLock(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	put(t, c, bucket, stateKey, stateFile(1, "L1"))
	put(t, c, bucket, stateKey, stateFile(2, "L1"))
	lock, _ := json.Marshal(LockInfo{ID: "6a1f0c2e-tf", Operation: "OperationTypeApply", Who: "runner@codebuild", Version: "1.11.4", Created: "2026-12-07T10:00:00Z", Path: bucket + "/" + stateKey})
	put(t, c, bucket, stateKey+LockSuffix, string(lock))

	_, err := RestoreState(ctx, io.Discard, c, bucket, stateKey, StateOptions{Who: "sre@laptop"})
	var locked *LockedError
	require.True(t, errors.As(err, &locked), "got %v", err)
	assert.Equal(t, "6a1f0c2e-tf", locked.Holder.ID)
	assert.Contains(t, err.Error(), "OperationTypeApply by runner@codebuild")
	assert.Contains(t, err.Error(), "terraform force-unlock 6a1f0c2e-tf")
	assert.JSONEq(t, stateFile(2, "L1"), body(t, c, bucket, stateKey), "nothing written")
	assert.JSONEq(t, string(lock), body(t, c, bucket, stateKey+LockSuffix), "Terraform's lock is left alone")
}

// A version from another lineage is another state's history (a copy put
// under the wrong key): restoring it would make Terraform manage the
// wrong resources. So is anything that is not a state file.
func TestRestoreStateRefusesAForeignOrBrokenVersion(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	put(t, c, bucket, stateKey, stateFile(7, "OTHER"))
	put(t, c, bucket, stateKey, stateFile(1, "L1"))
	_, err := RestoreState(ctx, io.Discard, c, bucket, stateKey, StateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lineage OTHER")

	put(t, c, bucket, "dev/cdn.tfstate", "<html>not state</html>")
	put(t, c, bucket, "dev/cdn.tfstate", stateFile(1, "L2"))
	_, err = RestoreState(ctx, io.Discard, c, bucket, "dev/cdn.tfstate", StateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a Terraform state file")
}

// GIVEN a deleted state file WHEN restored THEN its newest version comes
// back; a dry run only says so.
func TestRestoreStateAfterADeletion(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	put(t, c, bucket, stateKey, stateFile(1, "L1"))
	put(t, c, bucket, stateKey, stateFile(2, "L1"))
	del(t, c, bucket, stateKey)

	rep, err := RestoreState(ctx, io.Discard, c, bucket, stateKey, StateOptions{DryRun: true})
	require.NoError(t, err)
	assert.False(t, rep.Written)
	assert.Equal(t, "", body(t, c, bucket, stateKey), "a dry run writes nothing")
	_, err = RestoreState(ctx, io.Discard, c, bucket, stateKey, StateOptions{})
	require.NoError(t, err)
	assert.JSONEq(t, stateFile(2, "L1"), body(t, c, bucket, stateKey))
}

// --to picks the version current at that time.
func TestRestoreStateToATime(t *testing.T) {
	ctx := context.Background()
	c := s3Client(t)
	bucket := newBucket(t, c, true)
	put(t, c, bucket, stateKey, stateFile(1, "L1"))
	at := pause()
	put(t, c, bucket, stateKey, stateFile(2, "L1"))
	put(t, c, bucket, stateKey, stateFile(3, "L1"))
	_, err := RestoreState(ctx, io.Discard, c, bucket, stateKey, StateOptions{At: at})
	require.NoError(t, err)
	assert.JSONEq(t, stateFile(1, "L1"), body(t, c, bucket, stateKey))
	_, err = RestoreState(ctx, io.Discard, c, bucket, stateKey, StateOptions{At: at.Add(-time.Hour)})
	assert.ErrorContains(t, err, "did not exist")
}
