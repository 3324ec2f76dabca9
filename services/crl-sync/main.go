// Command crl-sync keeps the CDN presigner's ALB trust store
// (<org>-<env>-devices) refusing revoked devices: a CronJob in namespace
// cdn-presigner that copies the private CA's current CRL into the trust
// store's revocation list. Package crlsync holds the logic;
// docs/edge-identity.md ("CRL sync job") is the operator's page.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spatialprops/spatialprops-infra/services/crl-sync/crlsync"
)

// DefaultTimeout bounds one run; the CronJob runs every 10 minutes.
const DefaultTimeout = 3 * time.Minute

// Config is the job's configuration: flags, each defaulting to an
// environment variable.
type Config struct {
	Bucket        string
	CAArn         string
	TrustStoreArn string
	Region        string
	KMSKey        string
	Timeout       time.Duration
	CallTimeout   time.Duration
	DryRun        bool
}

const usage = `crl-sync copies the private CA's current CRL (DER, crl/<ca-id>.crl in the
PKI bucket) into the presigner ALB trust store's revocation list (PEM,
trust/crl/<crlNumber>.pem): it verifies the CRL against trust/ca-bundle.pem,
adds the new list, then removes the old ones. A run with an unchanged CRL
does nothing. Before each add it records the intent in
trust/crl/current.json and adds nothing when that write fails, so failures
never pile lists up in the trust store; the next run finishes an
interrupted one. Every AWS call has its own deadline (--call-timeout).

Example (what the CronJob runs):

  PKI_BUCKET=spatial-pki-spatialprops-dev-ap-southeast-2 AWS_REGION=ap-southeast-2 \
  CA_ARN=arn:aws:acm-pca:ap-southeast-2:111122223333:certificate-authority/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0 \
  TRUST_STORE_ARN=arn:aws:elasticloadbalancing:ap-southeast-2:111122223333:truststore/spatialprops-dev-devices/0123456789abcdef \
  crl-sync --dry-run

Environment: PKI_BUCKET, CA_ARN, TRUST_STORE_ARN, AWS_REGION (required);
PKI_KMS_KEY (optional: the key for the PEM object, default the bucket's own
SSE-KMS key); AWS_ENDPOINT_URL (optional endpoint override). Flags win over
the environment.

Exit status: 0 in sync (or nothing to do), 1 the CRL was refused or the work
failed (nothing is left without a revocation list; the next run retries),
2 bad usage.

Flags:
`

// parseConfig reads flags over environment defaults. A missing setting is a
// one-line error naming the variable and its flag.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("crl-sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&c.Bucket, "bucket", getenv("PKI_BUCKET"), "PKI `bucket`, spatial-pki-<org>-<env>-<region> (env PKI_BUCKET)")
	fs.StringVar(&c.CAArn, "ca-arn", getenv("CA_ARN"), "device CA `arn` (env CA_ARN; terraform output device_ca_arn of <env>-identity)")
	fs.StringVar(&c.TrustStoreArn, "trust-store-arn", getenv("TRUST_STORE_ARN"), "ALB trust store `arn` (env TRUST_STORE_ARN; output device_trust_store_arn)")
	fs.StringVar(&c.KMSKey, "kms-key", getenv("PKI_KMS_KEY"), "KMS `key` for the PEM object (env PKI_KMS_KEY; default: the bucket's SSE-KMS key)")
	fs.DurationVar(&c.Timeout, "timeout", DefaultTimeout, "give up the whole run after this long")
	fs.DurationVar(&c.CallTimeout, "call-timeout", crlsync.DefaultCallTimeout, "give up one AWS call (its retries included) after this long")
	fs.BoolVar(&c.DryRun, "dry-run", false, "read the CRL and the trust store and log what would change; write nothing")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	c.Region = getenv("AWS_REGION")
	switch {
	case c.Bucket == "":
		return c, errors.New("PKI_BUCKET (or --bucket) is required: the PKI bucket, terraform output pki_bucket of <env>-identity")
	case c.CAArn == "":
		return c, errors.New("CA_ARN (or --ca-arn) is required: the device CA, terraform output device_ca_arn of <env>-identity")
	case c.TrustStoreArn == "":
		return c, errors.New("TRUST_STORE_ARN (or --trust-store-arn) is required: the trust store, terraform output device_trust_store_arn of <env>-identity")
	case c.Region == "":
		return c, errors.New("AWS_REGION is required: the region of the PKI bucket and the trust store")
	case c.Timeout <= 0:
		return c, fmt.Errorf("--timeout %s must be positive", c.Timeout)
	case c.CallTimeout <= 0:
		return c, fmt.Errorf("--call-timeout %s must be positive", c.CallTimeout)
	}
	if _, err := crlsync.CAID(c.CAArn); err != nil {
		return c, err
	}
	return c, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

// run is main with its exit status: 0 done, 1 the work failed or the CRL
// was refused, 2 bad usage. build, when set, replaces the AWS clients
// (tests).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, build func(Config) (crlsync.S3, crlsync.ELB)) int {
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "crl-sync:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	s := &crlsync.Syncer{
		Bucket: cfg.Bucket, CAArn: cfg.CAArn, TrustStoreArn: cfg.TrustStoreArn,
		KMSKey: cfg.KMSKey, DryRun: cfg.DryRun, Log: log, CallTimeout: cfg.CallTimeout,
	}
	if build != nil {
		s.S3, s.ELB = build(cfg)
	} else {
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
		if err != nil {
			log.Error("aws config", "err", err)
			return 1
		}
		s.S3, s.ELB = s3.NewFromConfig(awsCfg), elbv2.NewFromConfig(awsCfg)
	}
	if _, err := s.Run(ctx); err != nil {
		log.Error("crl sync failed", "err", err, "refused", errors.Is(err, crlsync.ErrRefused), "interrupted", errors.Is(ctx.Err(), context.Canceled))
		return 1
	}
	return 0
}
