package stacks

import (
	"slices"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// ServiceDeployRolePurpose names a service's deploy role,
// "<org>-<env>-gha-deploy-<service>".
func ServiceDeployRolePurpose(svc string) string { return "gha-deploy-" + svc }

// ServiceWorkflow is the workflow file that builds and deploys a service.
func ServiceWorkflow(svc string) string { return ".github/workflows/deploy-" + svc + ".yml" }

// IsPrivilegedWorkload reports whether the infra stacks, not the service's
// workflow, deploy svc (envs.PrivilegedWorkloads).
func IsPrivilegedWorkload(svc string) bool { return slices.Contains(envs.PrivilegedWorkloads, svc) }

// serviceDeployRole is one service's deploy role: what newServiceDeployRoles
// made for it.
type serviceDeployRole struct {
	Arn       *string
	Namespace string // "" for a privileged workload: no cluster access
}

// newServiceDeployRoles gives every service its own GitHub role, trusted by
// its own GitHub environment only (ServiceDeploySubject, "<env>-deploy-
// <svc>", which only its workflow's jobs name, so a token minted in another
// service's job never matches): push to its own ECR
// repository; and, for a service its workflow deploys, find the cluster and
// an EKS access entry with AmazonEKSEditPolicy in that service's namespace
// alone (naming.ServiceNamespace). A privileged workload's role pushes its
// image and has no cluster access at all: the infra stacks deploy it by
// digest into a namespace no deploy role can edit (naming.PrivilegedNamespaces).
func newServiceDeployRoles(b *base, provider *string, cluster *ClusterOutputs, repos map[string]*sp.EcrRepository) (map[string]serviceDeployRole, error) {
	out := map[string]serviceDeployRole{}
	var access []clusterAccess
	for _, svc := range b.cfg.CICD.Services {
		st := []sp.Statement{
			{Sid: "EcrLogin", Actions: []string{"ecr:GetAuthorizationToken"}, Resources: []string{"*"}},
			{Sid: "PushThisServicesImages", Actions: EcrPushActions, Resources: []string{*repos[svc].Arn}},
		}
		ns := ""
		if !IsPrivilegedWorkload(svc) {
			ns = naming.ServiceNamespace(svc)
			st = append(st, sp.Statement{Sid: "FindTheCluster", Actions: []string{"eks:DescribeCluster"}, Resources: []string{*cluster.Arn}})
		}
		role, err := sp.NewGitHubRole(b.stack, ServiceDeployRolePurpose(svc), &sp.GitHubRoleProps{
			RoleName: b.names.Role(ServiceDeployRolePurpose(svc)), OidcProviderArn: provider,
			Subjects: []string{ServiceDeploySubject(b.cfg, svc)}, Statements: st,
		})
		if err != nil {
			return nil, err
		}
		if ns != "" {
			if slices.Contains(naming.PrivilegedNamespaces, ns) {
				panic("service " + svc + " is deployed by its workflow into privileged namespace " + ns)
			}
			access = append(access, clusterAccess{ServiceDeployRolePurpose(svc), *role.Arn, EKSEditPolicyArn, []string{ns}})
		}
		out[svc] = serviceDeployRole{Arn: role.Arn, Namespace: ns}
		b.output("deploy_role_arn_"+svc, "Role deploy-"+svc+".yml assumes (GitHub environment "+b.cfg.ServiceEnvironment(svc)+" only)", role.Arn, false)
	}
	grantClusterAccess(b, cluster, access)
	return out, nil
}
