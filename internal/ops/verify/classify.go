package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/spatialprops/spatialprops-infra/internal/ops/kubeapi"
)

// A call that fails is one of two things. An answer that the thing does
// not exist (HTTP 404, NoSuchBucket, ResourceNotFoundException,
// NoSuchCORSConfiguration, …) is an observation: the check fails and its
// fix applies. Anything else (no answer, a timeout, access denied,
// throttling, expired credentials) means the check could not look: it is
// "not run", with the reason, and no fix that guesses a cause.

// callErr turns the error of a call about what into the check's outcome.
func callErr(err error, what string) error {
	if isNotFound(err) {
		return failf("%s: %s", what, brief(err))
	}
	return notRunf("%s: could not look: %s", what, brief(err))
}

// absentErr is callErr for a read of a setting: its absence is the
// finding absent ("no lifecycle configuration").
func absentErr(err error, what, absent string) error {
	if isNotFound(err) {
		return failf("%s: %s (%s)", what, absent, apiCode(err))
	}
	return notRunf("%s: could not read its %s: %s", what, strings.TrimPrefix(absent, "no "), brief(err))
}

// noBucket is the outcome of reading a setting of a bucket that does not
// exist: "not run" when the bucket has its own "exists" check (which
// reports the absence once), else the absence itself.
func (a *awsChecks) noBucket(bucket string) error {
	if id, ok := a.existsCheck[bucket]; ok {
		return notRunf("bucket %s does not exist (see %s)", bucket, id)
	}
	return failf("bucket %s does not exist", bucket)
}

// bucketErr is absentErr for a bucket setting, with a missing bucket
// reported as such.
func (a *awsChecks) bucketErr(err error, bucket, absent string) error {
	if apiCode(err) == "NoSuchBucket" {
		return a.noBucket(bucket)
	}
	return absentErr(err, bucket, absent)
}

// isNotFound reports whether err is an answer saying the resource (or the
// setting asked for) does not exist.
func isNotFound(err error) bool {
	if IsNotFound(err) || apierrors.IsNotFound(err) {
		return true
	}
	var se *kubeapi.StatusError
	if errors.As(err, &se) {
		return se.Code == 404 || se.Code == 503 // no such service, or no ready endpoint behind it
	}
	if httpStatus(err) == 404 {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsNotFound
	}
	code := apiCode(err)
	for _, s := range []string{"NotFound", "NoSuch", "NonExistent", "DoesNotExist"} {
		if strings.Contains(code, s) {
			return true
		}
	}
	return false
}

// brief is err without the SDK's operation wrapping when it is an API
// answer: "NoSuchBucket: The specified bucket does not exist".
func brief(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return ae.ErrorCode() + ": " + m
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

// isNotRun reports whether err is a NotRunError.
func isNotRun(err error) bool {
	var nr *NotRunError
	return errors.As(err, &nr)
}

// prerequisite is the outcome of a check whose input another lookup
// provides (the distribution, the cluster): that lookup's failure is
// reported by its own check; this one did not look.
func prerequisite(err error, what, id string) error {
	if err == nil {
		return nil
	}
	if isNotRun(err) {
		return err
	}
	return notRunf("no %s to read (see %s)", what, id)
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return nil
}
