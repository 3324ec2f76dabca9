package cost

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const clusterStack = `{"resource":{
 "aws_eks_cluster":{"eks":{"name":"x"}},
 "aws_eks_node_group":{"nodes":{"instance_types":["m6i.large"],"scaling_config":{"desired_size":3,"min_size":2},
   "launch_template":{"id":"${aws_launch_template.lt.id}"}}},
 "aws_launch_template":{"lt":{"block_device_mappings":[{"ebs":{"volume_size":50}}]}},
 "aws_iam_role":{"r":{}},
 "aws_s3_bucket":{"b":{}},
 "aws_quantum_ledger":{"q":{}}
}}`

func write(t *testing.T, dir, id, doc string) {
	p := filepath.Join(dir, "stacks", id)
	require.NoError(t, os.MkdirAll(p, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p, "cdk.tf.json"), []byte(strings.Replace(doc, "{", sydney, 1)), 0o644))
}

// GIVEN a stack with a cluster, a node group, free, usage-priced and an
// unknown resource WHEN estimated THEN the priced lines follow the table,
// and the unknown type is reported as unpriced (never silently skipped).
func TestComputePricesKnownAndReportsUnknown(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "dev-cluster", clusterStack)
	docs, ids, err := Load(dir, "dev")
	require.NoError(t, err)
	est, err := Compute("dev", docs, ids)
	require.NoError(t, err)

	require.Len(t, est.Stacks, 1)
	st := est.Stacks[0]
	// 73 control plane + 3 × 0.12 × 730 nodes + 150 GB × 0.096 root volumes
	assert.InDelta(t, 73+262.8+14.4, st.Subtotal, 0.001)
	assert.Equal(t, map[string]int{"aws_quantum_ledger": 1}, st.Unpriced)
	assert.Equal(t, []string{"aws_quantum_ledger"}, est.Unpriced)
	assert.Equal(t, map[string]int{"aws_s3_bucket": 1}, st.Usage)
	assert.Equal(t, 2, st.Free, "iam role and launch template have no charge")
	assert.Contains(t, est.Usage, "aws_s3_bucket", "usage items come with their unit prices")

	var out bytes.Buffer
	est.WriteText(&out)
	assert.Contains(t, out.String(), "UNPRICED resource types (add them to internal/ops/cost/prices.go): aws_quantum_ledger")
	assert.Contains(t, out.String(), "TOTAL fixed monthly: 350.20 USD")
}

// GIVEN an unknown instance type THEN the node group is unpriced, not zero.
func TestUnknownInstanceTypeIsUnpriced(t *testing.T) {
	docs := map[string][]byte{"dev-cluster": []byte(sydney + `"resource":{"aws_eks_node_group":{"n":{"instance_types":["x9.huge"],"scaling_config":{"desired_size":3}}}}}`)}
	est, err := Compute("dev", docs, []string{"dev-cluster"})
	require.NoError(t, err)
	assert.Equal(t, []string{"aws_eks_node_group"}, est.Unpriced)
	assert.Zero(t, est.Total)
}

// GIVEN no synthesized stacks THEN the error tells the user to run make synth.
func TestMissingSynthSaysRunMakeSynth(t *testing.T) {
	_, _, err := Load(t.TempDir(), "dev")
	require.True(t, errors.Is(err, ErrNotSynthesized))
	assert.Contains(t, err.Error(), "make synth")
}

// GIVEN a WAF ACL with three rules in rule_json THEN 5 + 3 × 1 USD.
func TestWAFRulesCounted(t *testing.T) {
	docs := map[string][]byte{"prod-cdn": []byte(sydney + `"resource":{"aws_wafv2_web_acl":{"w":{"rule_json":"[{},{},{}]"}}}}`)}
	est, err := Compute("prod", docs, []string{"prod-cdn"})
	require.NoError(t, err)
	assert.InDelta(t, 8.0, est.Total, 0.001)
}

// GIVEN two ALB Ingresses in one group, one in its own, a non-ALB Ingress
// and a LoadBalancer Service THEN two ALBs and one NLB are priced: the LB
// controller creates them at run time, so they never appear as aws_lb.
func TestRuntimeLoadBalancersArePriced(t *testing.T) {
	docs := map[string][]byte{"dev-edge": []byte(sydney + `"resource":{
	 "kubernetes_ingress_v1":{
	  "a":{"metadata":[{"annotations":{"alb.ingress.kubernetes.io/group.name":"shared"}}],"spec":[{"ingress_class_name":"alb"}]},
	  "b":{"metadata":[{"annotations":{"alb.ingress.kubernetes.io/group.name":"shared"}}],"spec":[{"ingress_class_name":"alb"}]},
	  "c":{"metadata":[{}],"spec":[{"ingress_class_name":"alb"}]},
	  "d":{"metadata":[{}],"spec":[{"ingress_class_name":"nginx"}]}},
	 "kubernetes_service_v1":{
	  "nlb":{"spec":[{"type":"LoadBalancer"}]},
	  "cluster":{"spec":[{"type":"ClusterIP"}]}}
	}}`)}
	est, err := Compute("dev", docs, []string{"dev-edge"})
	require.NoError(t, err)
	assert.Empty(t, est.Unpriced)
	assert.InDelta(t, 2*ALB.USD*HoursPerMonth+NLB.USD*HoursPerMonth, est.Total, 0.001)
	assert.Len(t, est.Stacks[0].Lines, 3)
}

// GIVEN a priced resource that is also billed by use (a NAT gateway, a
// private CA) THEN its unit prices are listed too, not only its hours.
func TestPricedTypesStillListTheirUsagePrices(t *testing.T) {
	docs := map[string][]byte{"dev-identity": []byte(sydney + `"resource":{
	 "aws_acmpca_certificate_authority":{"ca":{}},
	 "aws_nat_gateway":{"nat":{}}}}`)}
	est, err := Compute("dev", docs, []string{"dev-identity"})
	require.NoError(t, err)
	assert.InDelta(t, PrivateCA.USD+NATGateway.USD*HoursPerMonth, est.Total, 0.001)
	assert.Contains(t, est.Usage, "aws_acmpca_certificate_authority", "certificates are charged per issue")
	assert.Contains(t, est.Usage, "aws_nat_gateway", "NAT data processing is charged per GB")
}

// GIVEN a Spot node group across three pools THEN it is priced at the
// dearest pool's Spot rate from the table, and the line says so.
func TestSpotNodeGroupIsPricedAtTheDearestPool(t *testing.T) {
	docs := map[string][]byte{"dev-cluster": []byte(sydney + `"resource":{"aws_eks_node_group":{"n":{
	 "capacity_type":"SPOT","instance_types":["m5.large","m6i.large","m7a.large"],"scaling_config":{"desired_size":3}}}}}`)}
	est, err := Compute("dev", docs, []string{"dev-cluster"})
	require.NoError(t, err)
	// m6i.large's 0.045 is the highest of 0.0389, 0.045 and 0.0373
	assert.InDelta(t, 3*0.045*730+3*20*EBSgp3.USD, est.Total, 0.001)
	assert.Contains(t, est.Stacks[0].Lines[0].Detail, "Spot (3 types, dearest m6i.large; on-demand 0.12)")

	// A Spot type the table lacks leaves the group unpriced, not cheap.
	docs["dev-cluster"] = []byte(sydney + `"resource":{"aws_eks_node_group":{"n":{
	 "capacity_type":"SPOT","instance_types":["m6i.large","x9.huge"],"scaling_config":{"desired_size":3}}}}}`)
	est, err = Compute("dev", docs, []string{"dev-cluster"})
	require.NoError(t, err)
	assert.Equal(t, []string{"aws_eks_node_group"}, est.Unpriced)
}

// GIVEN working-hours actions on the node group's ASG (07:00-19:00, five
// days) THEN nodes and root volumes are priced for 60 of 168 hours; an
// action on another group changes nothing.
func TestScheduledNodeGroupIsPricedForTheHoursItRuns(t *testing.T) {
	const group = `"aws_eks_node_group":{"n":{"instance_types":["m6i.large"],"scaling_config":{"desired_size":2}}}`
	asg := `${aws_eks_node_group.n.resources[0].autoscaling_groups[0].name}`
	docs := map[string][]byte{"dev-cluster": []byte(sydney + `"resource":{` + group + `,
	 "aws_autoscaling_schedule":{
	  "up":{"autoscaling_group_name":"` + asg + `","recurrence":"0 7 * * MON-FRI","desired_capacity":2,"max_size":6,"min_size":2},
	  "down":{"autoscaling_group_name":"` + asg + `","recurrence":"0 19 * * MON,TUE,WED,THU,FRI","desired_capacity":0,"max_size":0,"min_size":0},
	  "other":{"autoscaling_group_name":"${aws_eks_node_group.other.resources[0].autoscaling_groups[0].name}","recurrence":"0 0 * * *","desired_capacity":0}}}}`)}
	est, err := Compute("dev", docs, []string{"dev-cluster"})
	require.NoError(t, err)
	share := 60.0 / 168
	assert.InDelta(t, 2*0.12*730*share+2*20*EBSgp3.USD*share, est.Total, 0.001)
	assert.Contains(t, est.Stacks[0].Lines[0].Detail, "scheduled: runs 60.0 h a week, 36% of the month")
	assert.Empty(t, est.Unpriced, "scheduled actions have no charge of their own")

	// A recurrence that names a day of the month cannot be priced by week:
	// the group counts as always running and the line says why.
	bad := strings.Replace(string(docs["dev-cluster"]), `"0 7 * * MON-FRI"`, `"0 7 1 * *"`, 1)
	est, err = Compute("dev", map[string][]byte{"dev-cluster": []byte(bad)}, []string{"dev-cluster"})
	require.NoError(t, err)
	assert.InDelta(t, 2*0.12*730+2*20*EBSgp3.USD, est.Total, 0.001)
	assert.Contains(t, est.Stacks[0].Lines[0].Detail, `priced as always running: recurrence "0 7 1 * *" is not "minute hour * * weekday"`)
}

func TestParseCron(t *testing.T) {
	c, err := parseCron("30 7 * * 1-5")
	require.NoError(t, err)
	assert.True(t, c.matches(1, 7, 30))
	assert.False(t, c.matches(0, 7, 30), "Sunday is day 0")
	assert.False(t, c.matches(1, 7, 31))
	c, err = parseCron("0 0 * * 7")
	require.NoError(t, err)
	assert.True(t, c.matches(0, 0, 0), "7 is Sunday too")
	for _, bad := range []string{"0 25 * * *", "0 7 * * FRI-MON", "0 7 * *", "x 7 * * *"} {
		_, err := parseCron(bad)
		assert.Error(t, err, bad)
	}
}

// sydney opens a stack document whose AWS provider deploys to the region
// the price table covers.
const sydney = `{"provider":{"aws":[{"region":"ap-southeast-2"}]},`

// GIVEN stacks synthesized for another region WHEN estimated THEN refused:
// Sydney's prices would be presented as that region's.
func TestOtherRegionsAreRefused(t *testing.T) {
	docs := map[string][]byte{"dev-network": []byte(`{"provider":{"aws":[{"region":"us-east-1"},{"alias":"x","region":"ap-southeast-2"}]}}`)}
	_, err := Compute("dev", docs, []string{"dev-network"})
	require.ErrorIs(t, err, ErrRegionNotPriced)
	assert.Contains(t, err.Error(), "synthesized for us-east-1, but the pinned price table (internal/ops/cost/prices.go) has ap-southeast-2 prices only")
}

// GIVEN a node group of a type the table does not price WHEN estimated THEN
// the type is named, so the caller can refuse an incomplete total.
func TestUnknownNodeTypeIsNamed(t *testing.T) {
	docs := map[string][]byte{"dev-cluster": []byte(sydney + `"resource":{"aws_eks_node_group":{"n":{"instance_types":["m7i.lrage"]}}}}`)}
	est, err := Compute("dev", docs, []string{"dev-cluster"})
	require.NoError(t, err)
	assert.Equal(t, []string{"m7i.lrage"}, est.UnknownNodeTypes)
}
