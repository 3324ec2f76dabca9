package teardown

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/spatialprops/spatialprops-infra/internal/ops/verify"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

// CloudFrontAPI is what disabling and deleting a distribution needs.
type CloudFrontAPI interface {
	verify.CloudFrontAPI
	GetDistributionConfig(context.Context, *cloudfront.GetDistributionConfigInput, ...func(*cloudfront.Options)) (*cloudfront.GetDistributionConfigOutput, error)
	UpdateDistribution(context.Context, *cloudfront.UpdateDistributionInput, ...func(*cloudfront.Options)) (*cloudfront.UpdateDistributionOutput, error)
	DeleteDistribution(context.Context, *cloudfront.DeleteDistributionInput, ...func(*cloudfront.Options)) (*cloudfront.DeleteDistributionOutput, error)
}

// S3API is what emptying a versioned bucket needs.
type S3API interface {
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// DisableAndDeleteDistribution disables the distribution aliased to
// domain, waits until CloudFront has deployed that change everywhere, then
// deletes it with the ETag of the disabled configuration. A distribution
// that is already gone is success (the step is idempotent).
func DisableAndDeleteDistribution(ctx context.Context, out io.Writer, cf CloudFrontAPI, domain string, timeout time.Duration, opts wait.Options) error {
	id, err := verify.FindDistribution(ctx, cf, domain)
	if verify.IsNotFound(err) {
		fmt.Fprintf(out, "  distribution for %s: already deleted\n", domain)
		return nil
	}
	if err != nil {
		return err
	}
	cfgOut, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil {
		return err
	}
	if aws.ToBool(cfgOut.DistributionConfig.Enabled) {
		cfgOut.DistributionConfig.Enabled = aws.Bool(false)
		if _, err := cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{
			Id: aws.String(id), IfMatch: cfgOut.ETag, DistributionConfig: cfgOut.DistributionConfig,
		}); err != nil {
			return fmt.Errorf("disable distribution %s: %w", id, err)
		}
		fmt.Fprintf(out, "  distribution %s disabled\n", id)
	}
	var etag *string
	err = wait.Until(ctx, out, "distribution "+id+" disabled and Deployed", timeout, opts, func(ctx context.Context) (bool, string, error) {
		d, err := cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
		if err != nil {
			return false, "", err
		}
		etag = d.ETag
		status := aws.ToString(d.Distribution.Status)
		return status == "Deployed" && !aws.ToBool(d.Distribution.DistributionConfig.Enabled), status, nil
	})
	if err != nil {
		return err
	}
	if _, err := cf.DeleteDistribution(ctx, &cloudfront.DeleteDistributionInput{Id: aws.String(id), IfMatch: etag}); err != nil {
		return fmt.Errorf("delete distribution %s (ETag %s): %w", id, aws.ToString(etag), err)
	}
	fmt.Fprintf(out, "  distribution %s deleted\n", id)
	return nil
}

// EmptyBucket deletes every object version and delete marker of bucket,
// 1000 at a time (the DeleteObjects limit). A missing bucket is success.
func EmptyBucket(ctx context.Context, out io.Writer, s3c S3API, bucket string) (int, error) {
	deleted := 0
	for {
		page, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1000)})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
			fmt.Fprintf(out, "  %s: already gone\n", bucket)
			return deleted, nil
		}
		if err != nil {
			return deleted, fmt.Errorf("list versions of %s: %w", bucket, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			fmt.Fprintf(out, "  %s: empty (%d versions and delete markers removed)\n", bucket, deleted)
			return deleted, nil
		}
		res, err := s3c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return deleted, fmt.Errorf("delete versions in %s: %w", bucket, err)
		}
		if len(res.Errors) > 0 {
			e := res.Errors[0]
			return deleted, fmt.Errorf("delete %s@%s in %s: %s %s", aws.ToString(e.Key), aws.ToString(e.VersionId), bucket, aws.ToString(e.Code), aws.ToString(e.Message))
		}
		deleted += len(ids)
		fmt.Fprintf(out, "  %s: %d versions and delete markers removed so far\n", bucket, deleted)
	}
}
