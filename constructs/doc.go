// Package constructs holds the reusable, typed building blocks of the
// platform: providers with required tags, the S3 state backend, the guardrail
// aspect, a secure bucket, the VPC, the EKS cluster, IRSA roles and more.
//
// Each construct follows one shape: New<Name>(scope, id, props) creates its
// own node, validates props (errors name the construct id and the field),
// fills documented defaults without mutating the caller's props, and returns
// a struct of exported fields other code may use.
package constructs
