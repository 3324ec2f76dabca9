package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaccessentry"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaccesspolicyassociation"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
)

// RunnerLogRetentionDays keeps CI job logs for a quarter's audit.
const RunnerLogRetentionDays = 90

// newRunner creates the env's CodeBuild-hosted GitHub Actions runners in the
// private subnets, with a rule on the cluster security group that admits
// them to the API on 443. This is the only CI path to the cluster API: it
// stays private in prod, and dev/staging open it only to the operator VPN.
//
// The deploy runners start a build only for a job of a deploy workflow on
// main (DeployRunnerAccepts); pull-request plans run on a project of their
// own (PlanRunnerAccepts), whose jobs can assume only the plan role (every
// other role trusts workflows on main, cicd_roles.go).
func newRunners(b *base, net *NetworkOutputs, cluster *ClusterOutputs) (deploy, plan *sp.CodeBuildRunner, err error) {
	deploy, err = newRunner(b, net, cluster, "gha-runner", b.names.RunnerProject(), nil, DeployRunnerAccepts)
	if err != nil {
		return nil, nil, err
	}
	plan, err = newRunner(b, net, cluster, "gha-plan-runner", b.names.PlanRunnerProject(), deploy.ConnectionArn, PlanRunnerAccepts)
	return deploy, plan, err
}

// DeployRunnerAccepts: infra deploys, the security workflow (drift, cluster
// baseline) and the service deploys, on main only.
var DeployRunnerAccepts = sp.RunnerAccepts{Workflows: []string{"infra-deploy", "security", "deploy-*"}, HeadRef: MainRef}

// PlanRunnerAccepts: the plans of infra-ci, from any pull request.
var PlanRunnerAccepts = sp.RunnerAccepts{Workflows: []string{"infra-ci"}}

func newRunner(b *base, net *NetworkOutputs, cluster *ClusterOutputs, id, project string, connection *string, accepts sp.RunnerAccepts) (*sp.CodeBuildRunner, error) {
	ci := b.cfg.CICD
	return sp.NewCodeBuildRunner(b.stack, id, &sp.CodeBuildRunnerProps{
		ProjectName:            project,
		ConnectionName:         b.names.GitHubConnection(),
		ConnectionArn:          connection,
		Accepts:                accepts,
		RepositoryURL:          "https://github.com/" + ci.GitHubOrg + "/" + ci.GitHubRepo,
		VpcID:                  net.VpcID,
		SubnetIDs:              net.PrivateSubnetIDs,
		ClusterSecurityGroupID: cluster.ClusterSecurityGroupID,
		RoleName:               b.names.Role(id),
		PermissionsBoundary:    b.boundaryArn(),
		Region:                 b.cfg.Region,
		AccountID:              b.accountID(),
		LogRetentionDays:       RunnerLogRetentionDays,
		Protect:                b.cfg.Protect(),
	})
}

// clusterAccess is one GitHub role's EKS access entry: its access policy,
// cluster-wide or limited to namespaces.
type clusterAccess struct {
	id, arn, policy string
	namespaces      []string
}

// grantClusterAccess creates the CI roles' access entries. With the API
// authentication mode and no bootstrap admin, these and the break-glass
// entry (cluster stack) are the whole list of who may use the cluster.
func grantClusterAccess(b *base, cluster *ClusterOutputs, access []clusterAccess) {
	for _, a := range access {
		entry := eksaccessentry.NewEksAccessEntry(b.stack, jsii.String("access-"+a.id), &eksaccessentry.EksAccessEntryConfig{
			ClusterName: cluster.NameRef, PrincipalArn: jsii.String(a.arn), Type: jsii.String("STANDARD"),
		})
		scope := &eksaccesspolicyassociation.EksAccessPolicyAssociationAccessScope{Type: jsii.String("cluster")}
		if len(a.namespaces) > 0 {
			scope = &eksaccesspolicyassociation.EksAccessPolicyAssociationAccessScope{Type: jsii.String("namespace"), Namespaces: jsii.Strings(a.namespaces...)}
		}
		eksaccesspolicyassociation.NewEksAccessPolicyAssociation(b.stack, jsii.String("access-"+a.id+"-policy"), &eksaccesspolicyassociation.EksAccessPolicyAssociationConfig{
			ClusterName: cluster.NameRef, PrincipalArn: entry.PrincipalArn(), PolicyArn: jsii.String(a.policy), AccessScope: scope,
		})
	}
}
