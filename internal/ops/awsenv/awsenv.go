// Package awsenv builds the aws-sdk-go-v2 configuration spctl uses: the
// standard credential chain and the env's region. AWS_ENDPOINT_URL (an
// emulator such as moto_server) is honoured by the SDK itself; S3 then needs
// path-style addressing, which PathStyle reports.
package awsenv

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// HTTPTimeout bounds each attempt of every AWS call spctl makes (connect,
// send, wait for and read the answer); the SDK makes at most 3 attempts.
// Without it a call to an endpoint that accepts and never answers would
// wait forever. Tests shorten it.
var HTTPTimeout = 30 * time.Second

// Load returns the SDK configuration for region.
func Load(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(HTTPTimeout)))
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w (set AWS_PROFILE or credentials for the env's account)", err)
	}
	return cfg, nil
}

// PathStyle reports whether S3 must use path-style URLs: against an
// emulator endpoint, where bucket subdomains do not resolve.
func PathStyle(cfg aws.Config) bool {
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}
