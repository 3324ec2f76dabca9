package tests

import (
	"bytes"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/cost"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// synthEnv synthesizes every stack of one env, with edited config, into a
// fresh directory, as `ENV=<env> make synth` would.
func synthEnv(t *testing.T, env string, edit func(*envs.Config)) string {
	t.Helper()
	cfgs, err := envs.LoadSelected(envs.Overrides{Env: env})
	require.NoError(t, err)
	edit(cfgs[0])
	dir := t.TempDir()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(dir), StackTraces: jsii.Bool(false)})
	_, err = stacks.NewEnvironment(app, cfgs[0])
	require.NoError(t, err)
	app.Synth()
	return dir
}

// GIVEN two real synths of dev, the guide's node group (three on-demand
// m6i.large, running around the clock) and the shipped one WHEN
// `spctl cost --compare` lines them up THEN only dev-cluster moves, by the
// node group's line alone: three nodes at m6i.large's on-demand rate
// against the same three at the dearest Spot rate of dev's five pools.
// A synth of the cluster stack with working hours on is priced for the 60
// hours a week its nodes run, from the scheduled actions it synthesizes.
func TestCostCompareOnTwoRealSynths(t *testing.T) {
	allStacks(t)
	guide := synthEnv(t, "dev", func(c *envs.Config) {
		c.Cluster.NodeGroup.CapacityType, c.Cluster.NodeGroup.InstanceTypes = envs.CapacityOnDemand, []string{"m6i.large"}
	})
	cmp, err := cost.CompareDirs(guide, synthDir, "dev", "guide", "shipped")
	require.NoError(t, err)
	require.True(t, cmp.Changed())
	var moved []string
	for _, s := range cmp.Stacks {
		if s.Delta() != 0 {
			moved = append(moved, s.ID)
		}
	}
	assert.Equal(t, []string{"dev-cluster"}, moved)
	cluster := cmp.Stacks[2]
	require.Equal(t, "dev-cluster", cluster.ID)
	assert.InDelta(t, -3*(0.12-0.045)*cost.HoursPerMonth, cluster.Delta(), 0.001)
	require.Len(t, cluster.Changes, 1)
	assert.Regexp(t, `^aws_eks_node_group\.nodes_group_\w+$`, cluster.Changes[0].Resource)
	assert.InDelta(t, cmp.After-cmp.Before, cluster.Delta(), 0.001)

	var md bytes.Buffer
	cmp.WriteMarkdown(&md)
	assert.Contains(t, md.String(), "| dev-cluster | 355.05 | 190.80 | -164.25 |")
	assert.NotContains(t, md.String(), "| dev-network", "unchanged stacks stay out of the PR comment")

	// Nothing changed: the comparison says so instead of printing zeros.
	same, err := cost.CompareDirs(synthDir, synthDir, "dev", "a", "b")
	require.NoError(t, err)
	assert.False(t, same.Changed())

	// The working-hours case needs only the cluster stack (and the network
	// stack it reads): synthesizing the whole env again would double the
	// test's time for the same answer.
	cfgs, err := envs.LoadSelected(envs.Overrides{Env: "dev"})
	require.NoError(t, err)
	cfgs[0].Cluster.NodeGroup.WorkingHours = &envs.WorkingHours{TimeZone: "Australia/Perth", Start: "07:00", End: "19:00"}
	dir := t.TempDir()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(dir), StackTraces: jsii.Bool(false)})
	net, err := stacks.NewNetworkStack(app, cfgs[0])
	require.NoError(t, err)
	_, err = stacks.NewClusterStack(app, cfgs[0], net)
	require.NoError(t, err)
	app.Synth()
	sched, err := cost.CompareDirs(synthDir, dir, "dev", "around the clock", "working hours")
	require.NoError(t, err)
	share := 60.0 / 168
	nodes := 3 * 0.045 * cost.HoursPerMonth
	volumes := 3 * 50 * cost.EBSgp3.USD
	require.Equal(t, "dev-cluster", sched.Stacks[1].ID)
	assert.InDelta(t, -(nodes+volumes)*(1-share), sched.Stacks[1].Delta(), 0.001)
}
