package envs

import (
	"regexp"
	"slices"
	"sort"
)

// Privileged workloads: they hold a role or a Secret that issues identities,
// keeps the device trust store, publishes packs or runs NATS itself, so only
// the infra stacks deploy them (into namespaces no service-deploy role can
// edit); their workflows build, scan and push the image, nothing more.
const (
	WorkloadNATSAuth         = "nats-auth"
	WorkloadDeviceEnrollment = "device-enrollment"
	WorkloadCDNPresigner     = "cdn-presigner"
	WorkloadCRLSync          = "crl-sync"
	WorkloadProvenanceGate   = "provenance-gate"
)

// PrivilegedWorkloads lists them in a stable order; each has an ECR
// repository of the same name (cicd.services).
var PrivilegedWorkloads = []string{WorkloadNATSAuth, WorkloadDeviceEnrollment, WorkloadCDNPresigner, WorkloadCRLSync, WorkloadProvenanceGate}

// Workload pins one privileged workload's image.
type Workload struct {
	// Digest is the image digest (sha256:<64 hex>) in the workload's ECR
	// repository that the infra stack deploys, as the image's build
	// workflow printed it. Until it is set the stack creates the
	// workload's namespace, role binding and configuration but no pods.
	Digest string `yaml:"digest"`
}

var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// WorkloadDigest is the pinned digest of a privileged workload, or "".
func (c *Config) WorkloadDigest(name string) string { return c.Workloads[name].Digest }

// defaultWorkloadRepositories gives every privileged workload an ECR
// repository (the provenance gate only with the marketplace).
func defaultWorkloadRepositories(c *Config) {
	for _, w := range PrivilegedWorkloads {
		if w == WorkloadProvenanceGate && !c.Marketplace.Enabled {
			continue
		}
		if !slices.Contains(c.CICD.Services, w) {
			c.CICD.Services = append(c.CICD.Services, w)
		}
	}
}

func validateWorkloads(p *problems, c *Config) {
	names := make([]string, 0, len(c.Workloads))
	for n := range c.Workloads {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(PrivilegedWorkloads, n) {
			p.add("workloads."+n, "is not a privileged workload; the infra stacks deploy only %v (other services deploy through their own workflow)", PrivilegedWorkloads)
			continue
		}
		if d := c.Workloads[n].Digest; d != "" && !digestRe.MatchString(d) {
			p.add("workloads."+n+".digest", "%q is not an image digest; pin sha256:<64 lowercase hex> as the image workflow printed it (a tag can be moved, a digest cannot)", d)
		}
	}
}
