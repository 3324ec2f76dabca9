// Package tflint pins TFLint and its AWS ruleset, which `make tflint`
// builds from source into bin/: tflint itself and the plugin binary
// tflint-ruleset-aws, which tflint loads from the plugin folder named in
// .tflint.hcl. They have their own module because their dependency graph
// (the AWS SDK, HCL, the plugin SDK) would otherwise move Trivy's in
// tools/go.mod.
package tflint
