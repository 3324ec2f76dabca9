// Command device-enrollment issues and renews device certificates through
// the device CA (ACM Private CA), on the service kit. The bootstrap model,
// the requests and the rules are package enroll's; docs/edge-identity.md
// is the operator's page.
//
//	POST /v1/enroll  {device, token, csr}          first certificate, one-time token
//	POST /v1/renew   {certificate, csr, proof}     next certificate, proof of the current key
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	DEVICE_CA_ARN                  the device CA
//	DEVICE_CERT_DAYS               certificate validity, 1 to 30 days
//	DEVICE_CA_SIGNING_ALGORITHM    default SHA256WITHECDSA (an EC_prime256v1 CA)
//	LEDGER_TABLE, DEVICES_TABLE    <org>-<env>-device-ledger, <org>-<env>-devices
//	AWS_REGION
//
// Provisioning a device (run with the same environment and a role that
// may write the devices table) prints its one-time token:
//
//	device-enrollment token --device dev-0001 --cohort pilot-a [--ttl 72h]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/device-enrollment/enroll"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "token" {
		os.Exit(tokenCommand(os.Args[2:]))
	}
	kit.Program{Name: "device-enrollment", Setup: setup}.Main()
}

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	svc := &enroll.Service{
		CAArn:            env.Required("DEVICE_CA_ARN", "the device CA's ARN (identity stack)"),
		Days:             env.Int("DEVICE_CERT_DAYS", 0, 1, edge.MaxDeviceCertDays),
		SigningAlgorithm: pcatypes.SigningAlgorithm(env.String("DEVICE_CA_SIGNING_ALGORITHM", string(pcatypes.SigningAlgorithmSha256withecdsa))),
		LedgerTable:      env.Required("LEDGER_TABLE", "the device ledger, <org>-<env>-device-ledger (edge stack)"),
		DevicesTable:     env.Required("DEVICES_TABLE", "the devices table, <org>-<env>-devices (edge stack)"),
		Now:              time.Now, Log: s.Log,
	}
	if svc.Days == 0 {
		env.Fail(fmt.Errorf("DEVICE_CERT_DAYS is required: identity.deviceCertDays of the env, 1 to %d", edge.MaxDeviceCertDays))
	}
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return err
	}
	svc.PCA, svc.DB = acmpca.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	svc.Register(s.Metrics)
	enroll.Routes(s, svc)
	return nil
}

func tokenCommand(args []string) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	device := fs.String("device", "", "device id")
	cohort := fs.String("cohort", "", "the device's cohort")
	ttl := fs.Duration("ttl", 72*time.Hour, "how long the token may be used")
	if err := fs.Parse(args); err != nil {
		return kit.ExitConfig
	}
	table := os.Getenv("DEVICES_TABLE")
	if table == "" || *device == "" || *cohort == "" {
		fmt.Fprintln(os.Stderr, "usage: DEVICES_TABLE=<org>-<env>-devices device-enrollment token --device <id> --cohort <cohort> [--ttl 72h]")
		return kit.ExitConfig
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := awskit.Config(ctx, awskit.Options{Region: os.Getenv("AWS_REGION")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return kit.ExitFailed
	}
	token, err := enroll.NewToken(ctx, dynamodb.NewFromConfig(cfg), table, *device, *cohort, *ttl, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return kit.ExitFailed
	}
	fmt.Println(token)
	return kit.ExitOK
}
