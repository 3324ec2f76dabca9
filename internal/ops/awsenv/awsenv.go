// Package awsenv builds the aws-sdk-go-v2 configuration spctl uses: the
// standard credential chain and the env's region. AWS_ENDPOINT_URL (an
// emulator such as moto_server) is honoured by the SDK itself; S3 then needs
// path-style addressing, which PathStyle reports.
package awsenv

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the SDK configuration for region.
func Load(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
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
