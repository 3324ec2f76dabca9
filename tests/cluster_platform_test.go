package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// trustConditions returns, for each IRSA trust document in doc, the values
// of its :sub and :aud conditions keyed by document.
func irsaTrusts(doc gjson.Result) map[string][2][]string {
	out := map[string][2][]string{}
	doc.Get("data.aws_iam_policy_document").ForEach(func(id, d gjson.Result) bool {
		for _, s := range d.Get("statement").Array() {
			if !strings.Contains(s.Get("actions").Raw, "sts:AssumeRoleWithWebIdentity") {
				continue
			}
			var pair [2][]string
			for _, c := range s.Get("condition").Array() {
				if c.Get("test").String() != "StringEquals" {
					continue
				}
				switch v := c.Get("variable").String(); {
				case strings.HasSuffix(v, ":sub"):
					pair[0] = strs(c.Get("values"))
				case strings.HasSuffix(v, ":aud"):
					pair[1] = strs(c.Get("values"))
				}
			}
			out[id.String()] = pair
		}
		return true
	})
	return out
}

func TestEveryIrsaTrustIsExact(t *testing.T) {
	// GIVEN every IRSA role in every environment, THEN each trusts exactly
	// one service account (sub) and only STS tokens (aud).
	for _, env := range []string{"dev", "staging", "prod"} {
		trusts := irsaTrusts(stack(t, env+"-cluster").Doc)
		require.Len(t, trusts, 1, "the EBS CSI driver is the cluster stack's only IRSA role")
		for _, pair := range trusts {
			assert.Equal(t, []string{"system:serviceaccount:kube-system:ebs-csi-controller-sa"}, pair[0])
			assert.Equal(t, []string{"sts.amazonaws.com"}, pair[1])
		}
		trusts = irsaTrusts(stack(t, env+"-platform").Doc)
		var subs []string
		for _, pair := range trusts {
			require.Len(t, pair[0], 1)
			subs = append(subs, pair[0][0])
			assert.Equal(t, []string{"sts.amazonaws.com"}, pair[1])
		}
		assert.ElementsMatch(t, []string{
			"system:serviceaccount:kube-system:cluster-autoscaler",
			"system:serviceaccount:aws-lbc:aws-load-balancer-controller",
			"system:serviceaccount:external-secrets:external-secrets",
		}, subs)
	}
}

func TestAutoscalerWritesOnlyToItsClusterGroups(t *testing.T) {
	doc := stack(t, "dev-platform").Doc
	write := policyStatement(t, doc, "ScaleOnlyThisClustersGroups")
	assert.ElementsMatch(t, []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}, strs(write.Get("actions")))
	require.Len(t, write.Get("condition").Array(), 1)
	c := write.Get("condition.0")
	assert.Equal(t, "StringEquals", c.Get("test").String())
	assert.Equal(t, "aws:ResourceTag/k8s.io/cluster-autoscaler/spatialprops-dev-eks", c.Get("variable").String())
	assert.Equal(t, []string{"owned"}, strs(c.Get("values")))
	// every other autoscaler statement is read-only
	read := policyStatement(t, doc, "ReadScalingState")
	for _, a := range strs(read.Get("actions")) {
		verb := a[strings.Index(a, ":")+1:]
		assert.True(t, strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "Get"), "%s in the unconditioned statement must be read-only", a)
	}
}

func TestNodeGroupScalingComesFromConfig(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		ngs := resources(stack(t, env+"-cluster").Doc, "aws_eks_node_group")
		require.Len(t, ngs, 1)
		sc := ngs[0].Get("scaling_config")
		g := cfg.Cluster.NodeGroup
		assert.Equal(t, []int64{int64(g.MinSize), int64(g.DesiredSize), int64(g.MaxSize)},
			[]int64{sc.Get("min_size").Int(), sc.Get("desired_size").Int(), sc.Get("max_size").Int()}, env)
		assert.Equal(t, g.InstanceTypes, strs(ngs[0].Get("instance_types")))
	}
	// and the guide's dev numbers, concretely
	sc := resources(stack(t, "dev-cluster").Doc, "aws_eks_node_group")[0].Get("scaling_config")
	assert.Equal(t, []int64{2, 3, 6}, []int64{sc.Get("min_size").Int(), sc.Get("desired_size").Int(), sc.Get("max_size").Int()})
}

// releaseValues decodes a helm_release's values document.
func releaseValues(t *testing.T, doc gjson.Result, name string) (gjson.Result, map[string]any) {
	t.Helper()
	for _, r := range resources(doc, "helm_release") {
		if r.Get("name").String() == name {
			var v map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(r.Get("values.0").String()), &v))
			return r, v
		}
	}
	t.Fatalf("no helm_release %s", name)
	return gjson.Result{}, nil
}

func TestLoadBalancerControllerGetsVpcAndRegion(t *testing.T) {
	doc := stack(t, "dev-platform").Doc
	r, v := releaseValues(t, doc, "aws-load-balancer-controller")
	assert.Equal(t, "aws-lbc", r.Get("namespace").String())
	assert.Equal(t, "spatialprops-dev-eks", v["clusterName"])
	assert.Equal(t, "ap-southeast-2", v["region"])
	// the VPC id arrives from the network stack's state
	assert.Regexp(t, `^\$\{data\.terraform_remote_state\.cross-stack-reference-input-dev-network\.outputs\.[\w-]+\}$`, v["vpcId"])
	sa := v["serviceAccount"].(map[string]any)
	assert.Equal(t, "aws-load-balancer-controller", sa["name"])
	assert.Regexp(t, `^\$\{aws_iam_role\.aws-lbc-irsa_role_\w+\.arn\}$`, sa["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"])
}

func TestPlatformReleasesArePinnedAndWired(t *testing.T) {
	doc := stack(t, "dev-platform").Doc
	releases := map[string]gjson.Result{}
	for _, r := range resources(doc, "helm_release") {
		releases[r.Get("name").String()] = r
		// Exact versions; cert-manager's charts carry a leading v.
		assert.Regexp(t, `^v?\d+\.\d+\.\d+$`, r.Get("version").String(), "charts are pinned to exact versions")
		assert.True(t, r.Get("atomic").Bool(), "a failed upgrade rolls back")
	}
	assert.Len(t, releases, 7)
	assert.Equal(t, "cert-manager", releases["cert-manager-approver-policy"].Get("namespace").String())
	assert.Equal(t, "external-secrets", releases["external-secrets"].Get("namespace").String())
	assert.Equal(t, "cert-manager", releases["cert-manager"].Get("namespace").String())
	assert.Equal(t, "cert-manager", releases["aws-privateca-issuer"].Get("namespace").String())
	assert.Equal(t, "kube-system", releases["metrics-server"].Get("namespace").String())
	assert.Equal(t, "kube-system", releases["cluster-autoscaler"].Get("namespace").String())

	_, ms := releaseValues(t, doc, "metrics-server")
	assert.NotContains(t, ms["args"], "--kubelet-insecure-tls", "EKS kubelet certificates are verifiable")

	_, ca := releaseValues(t, doc, "cluster-autoscaler")
	assert.Equal(t, "spatialprops-dev-eks", ca["autoDiscovery"].(map[string]any)["clusterName"])
	assert.Equal(t, "ap-southeast-2", ca["awsRegion"])
	sa := ca["rbac"].(map[string]any)["serviceAccount"].(map[string]any)
	assert.Equal(t, "cluster-autoscaler", sa["name"], "must match the IRSA trust's sub")
	assert.Regexp(t, `^\$\{aws_iam_role\.cluster-autoscaler-irsa_role_\w+\.arn\}$`, sa["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"])
	assert.Equal(t, "v1.35.2", ca["image"].(map[string]any)["tag"], "autoscaler minor matches the cluster's 1.35")

	// helm and kubernetes talk to the cluster through exec auth
	for _, p := range []string{"provider.helm.0.kubernetes.exec", "provider.kubernetes.0.exec.0"} {
		exec := doc.Get(p)
		assert.Equal(t, "aws", exec.Get("command").String(), p)
		assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "spatialprops-dev-eks", "--region", "ap-southeast-2", "--output", "json"}, strs(exec.Get("args")))
	}
	sc := resources(doc, "kubernetes_storage_class_v1")
	require.Len(t, sc, 1)
	assert.Equal(t, "true", sc[0].Get(`metadata.annotations.storageclass\.kubernetes\.io/is-default-class`).String())
	assert.Equal(t, "gp3", sc[0].Get("parameters.type").String())
	assert.Equal(t, "true", sc[0].Get("parameters.encrypted").String())
	// PVCs of Prometheus, Loki, Tempo and NATS can only grow (the runbooks'
	// resize procedure) when the class allows expansion.
	assert.True(t, sc[0].Get("allow_volume_expansion").Bool(), "gp3 volumes must be resizable in place")
}

func TestAutoscalerCanDrainNodesWithScratchVolumes(t *testing.T) {
	// Grafana, Loki, Tempo, NATS and every service mount an emptyDir; with
	// skip-nodes-with-local-storage true their nodes never scale down.
	_, ca := releaseValues(t, stack(t, "dev-platform").Doc, "cluster-autoscaler")
	assert.Equal(t, false, ca["extraArgs"].(map[string]any)["skip-nodes-with-local-storage"])
}

func TestLoadBalancersCarryTheRequiredTags(t *testing.T) {
	// Load balancers are created by the controller at run time, out of
	// reach of the provider's default_tags.
	for _, env := range []string{"dev", "prod"} {
		_, v := releaseValues(t, stack(t, env+"-platform").Doc, "aws-load-balancer-controller")
		tags, _ := v["defaultTags"].(map[string]any)
		assert.Equal(t, map[string]any{
			"Environment": env, "Project": "spatial-properties", "Service": "ingress",
			"CostCenter": "platform-engineering", "Owner": "sre@spatial.properties",
		}, tags, env)
	}
}

func TestClusterStackInstallsNoChart(t *testing.T) {
	// The stack that creates a cluster cannot configure providers against
	// it in the same plan; charts live in platform and later stacks.
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-cluster").Doc
		assert.False(t, doc.Get("provider.helm").Exists())
		assert.False(t, doc.Get("provider.kubernetes").Exists())
		doc.Get("resource").ForEach(func(typ, _ gjson.Result) bool {
			assert.True(t, strings.HasPrefix(typ.String(), "aws_"), "%s-cluster has %s", env, typ)
			return true
		})
	}
}

func TestClusterEndpointAccessPerEnv(t *testing.T) {
	dev := resources(stack(t, "dev-cluster").Doc, "aws_eks_cluster")[0].Get("vpc_config")
	assert.True(t, dev.Get("endpoint_public_access").Bool())
	assert.NotContains(t, strs(dev.Get("public_access_cidrs")), "0.0.0.0/0")
	prod := resources(stack(t, "prod-cluster").Doc, "aws_eks_cluster")[0].Get("vpc_config")
	assert.False(t, prod.Get("endpoint_public_access").Bool(), "prod API is private-only")
	assert.True(t, prod.Get("endpoint_private_access").Bool())
}
