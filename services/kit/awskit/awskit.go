// Package awskit is the AWS SDK configuration every service uses: the
// standard credential chain (IRSA in the cluster), AWS_ENDPOINT_URL for an
// emulator, and calls that cannot hang: each HTTP attempt has a deadline,
// each operation (all its attempts) has one too, and the SDK's standard
// retryer (exponential backoff with jitter) is capped.
package awskit

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// Options bound the calls. Zero values take the defaults.
type Options struct {
	// Region is the AWS region (AWS_REGION when empty).
	Region string
	// AttemptTimeout bounds one HTTP attempt (default 5 s). A long poll
	// (SQS WaitTimeSeconds) needs more than its wait time.
	AttemptTimeout time.Duration
	// OperationTimeout bounds one API call with all its retries (default 20 s).
	OperationTimeout time.Duration
	// MaxAttempts caps the attempts of one call (default 3).
	MaxAttempts int
}

func (o Options) withDefaults() Options {
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 5 * time.Second
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = 20 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	return o
}

// Config loads the SDK configuration with o's bounds.
func Config(ctx context.Context, o Options) (aws.Config, error) {
	o = o.withDefaults()
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(o.AttemptTimeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = 2 * time.Second
			})
		}),
		config.WithAPIOptions([]func(*middleware.Stack) error{OperationTimeout(o.OperationTimeout)}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("AWS configuration: no region (set AWS_REGION)")
	}
	return cfg, nil
}

// Bound applies o's bounds to an existing configuration (tests build theirs
// for the emulator).
func Bound(cfg aws.Config, o Options) aws.Config {
	o = o.withDefaults()
	cfg = cfg.Copy()
	switch c := cfg.HTTPClient.(type) {
	case nil:
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(o.AttemptTimeout)
	case *awshttp.BuildableClient:
		cfg.HTTPClient = c.WithTimeout(o.AttemptTimeout)
	case *http.Client:
		bounded := *c
		bounded.Timeout = o.AttemptTimeout
		cfg.HTTPClient = &bounded
	}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = o.MaxAttempts
			so.MaxBackoff = 2 * time.Second
		})
	}
	cfg.APIOptions = append(cfg.APIOptions, OperationTimeout(o.OperationTimeout))
	return cfg
}

// OperationTimeout is SDK middleware giving every operation a deadline that
// covers all of its attempts and backoffs.
func OperationTimeout(d time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("OperationTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// PathStyle reports whether S3 must use path-style URLs: against an
// emulator endpoint, where bucket subdomains do not resolve.
func PathStyle(cfg aws.Config) bool {
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}
