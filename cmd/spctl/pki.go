package main

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/pki"
)

func newPKICmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "pki",
		Short: "The CA hierarchy's ceremony: sign the device and service CAs with the offline root",
	}
	c.AddCommand(newCeremonyCmd())
	return c
}

func newCeremonyCmd() *cobra.Command {
	var env string
	var dryRun, renew, asJSON bool
	c := &cobra.Command{
		Use:   "ceremony --env <env>",
		Short: "Sign the env's subordinate CAs with the KMS root key and write the NATS callout key",
		Long: "Run with the MFA-only role <org>-<env>-pki-ceremony, after <env>-identity is applied and before\n" +
			"<env>-edge. It 1) self-signs the root certificate with the KMS key alias/<org>-<env>-pki-root (or\n" +
			"reads it back from a CA already installed), 2) signs the CSR of each subordinate CA that has no\n" +
			"certificate yet (device and service) and installs the certificate with the root as its chain,\n" +
			"3) writes a new NATS account key to <org>/<env>/nats-auth-callout if that secret has no value.\n" +
			"Rerunning it changes nothing; --renew re-signs CAs that already hold a certificate.",
		Example: "  aws sts assume-role --role-arn arn:aws:iam::<account>:role/spatialprops-dev-pki-ceremony \\\n" +
			"    --role-session-name pki-$USER --serial-number <MFA device ARN> --token-code <code>\n" +
			"  spctl pki ceremony --env dev --dry-run && spctl pki ceremony --env dev",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ac, err := awsenv.Load(ctx, cfg.Region)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				out = cmd.ErrOrStderr() // progress; stdout carries the result
			}
			n := naming.New(cfg.Org, cfg.Env, cfg.Region)
			fmt.Fprintf(out, "PKI ceremony for %s (root key %s)\n", cfg.Env, n.PKIRootKeyAlias())
			res, err := (&pki.Ceremony{
				Cfg: cfg, KMS: kms.NewFromConfig(ac), PCA: acmpca.NewFromConfig(ac), Secrets: secretsmanager.NewFromConfig(ac),
				Out: out, DryRun: dryRun, Renew: renew,
			}).Run(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "done: signed %v, kept %v, NATS callout key %s; next: make deploy STACK=%s-edge\n", res.Signed, res.Kept, res.CalloutKey, cfg.Env)
			if !asJSON {
				return nil
			}
			root := ""
			if res.Root != nil {
				root = res.Root.Subject.String()
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{
				"env": cfg.Env, "dryRun": dryRun, "root": root, "signed": nonNil(res.Signed), "kept": nonNil(res.Kept), "calloutKey": res.CalloutKey,
			})
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev, staging or prod")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "sign in memory and report; install and write nothing")
	c.Flags().BoolVar(&renew, "renew", false, "re-sign subordinate CAs that already hold a certificate")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON on stdout (progress lines go to stderr)")
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
