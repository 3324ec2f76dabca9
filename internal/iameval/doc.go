// Package iameval answers "may principal P do action A on resource R,
// given context C?" for the synthesized stacks, the way AWS IAM would:
// identity policies (inline and attached managed), the permissions
// boundary, the resource's policy (bucket, key, queue, secret, CA,
// repository, or the role's trust policy for sts:AssumeRole*) and their
// conditions. The evaluation itself is @cloud-copilot/iam-simulate (pinned in
// package.json, installed by `make gen`), run as one Node process per test
// binary (simulate.cjs) that answers batches of requests.
//
// The stacks' `${…}` references are resolved to concrete values in the
// fixed test account Account (111122223333): data sources, computed
// attributes (ARNs and ids in AWS's formats, with stable made-up unique
// parts), Terraform functions and other stacks' outputs read through
// terraform_remote_state. An attribute the evaluator does not know is an
// error naming it (add it to attrs.go), never a guess.
//
// # Adding a property
//
// Build the model of an env once, then state each promise as one line:
//
//	m, err := iameval.NewModel(env) // env from iameval.LoadEnv(name, stacks) or LoadEnvDir("cdktf.out", name)
//	iameval.Expect(t, m,
//		iameval.Deny("spatialprops-prod-gha-infra-deploy", "iam:UpdateAssumeRolePolicy", breakGlassArn).
//			Because("CI must not re-trust a role it did not create"),
//		iameval.Allow("spatialprops-prod-gha-infra-deploy", "dynamodb:CreateTable", tableArn,
//			"aws:RequestTag/Environment", "prod"),
//		iameval.Deny("arn:aws:iam::111122223333:role/workload/anything", "s3:GetObject", stateObjectArn).
//			As(boundaryArn, iameval.AllowAll).Because("whatever a bounded role's own policy says"),
//	)
//
// The principal is a role of the model (by name or ARN); its session makes
// the request, with aws:PrincipalArn, aws:PrincipalAccount,
// aws:PrincipalType, aws:PrincipalTag/* and aws:SecureTransport=true filled
// in. Context is key, value pairs (With for a list value). A check fails
// when IAM answers the other way, when the request cannot be evaluated (an
// unknown action, a resource ARN of the wrong type), or when a context key
// does not apply to the action (the condition the check meant to exercise
// would never run); the failure prints the deciding statements by policy
// and Sid. Expect sends all its checks in one batch; tests that build
// their checks from data (every role, every recorded call) stay fast.
package iameval
