package envs

import (
	"fmt"
	"slices"
)

// The rules below are what prod keeps whatever envs/prod.yaml says: the
// file can add to them, never take them away. They are checked once the
// file's env matches its name (an "env: dev" inside prod.yaml is refused
// on its own, so it cannot switch them off), and prod's defaults satisfy
// every one of them, so a key the file leaves out is never the problem:
// each refusal names the key the file wrote.
//
// Deletion protection is not in the table because no key controls it:
// Config.Protect() is true for every env but dev, by name.

// invariant is one prod rule.
type invariant struct {
	// field is the key that decides it.
	field string
	// from is the key whose value field's default copies
	// (marketplace.enableWaf follows cdn.enableWaf): when the file leaves
	// field out, from's own refusal already names what to change.
	from  string
	holds func(c *Config) bool
	// why says what is wrong and what to write instead.
	why func(c *Config) string
}

// ProdPlanEnvironment is the only GitHub environment prod's plan role may
// trust: the one infra-ci.yml's prod plan job runs in, whose reviewers
// approve each plan before it gets prod credentials.
const ProdPlanEnvironment = "prod-plan"

// ProdMinRetentionDays are the shortest log retentions prod accepts, by
// key. prod's defaults are these values.
var ProdMinRetentionDays = map[string]int{
	"network.flowLogRetentionDays":    365,
	"cluster.logRetentionDays":        365,
	"cdn.wafLogRetentionDays":         90,
	"storage.logRetentionDays":        365,
	"observability.lokiRetentionDays": 30,
	"accountBaseline.retentionDays":   365,
}

var prodInvariants = []invariant{
	{field: "cdn.enableWaf", holds: func(c *Config) bool { return c.CDN.EnableWAF },
		why: func(*Config) string {
			return "is false; prod's CDN always sits behind WAF (AWS managed rules and a rate limit): remove the key or set enableWaf: true"
		}},
	{field: "marketplace.enableWaf", from: "cdn.enableWaf", holds: func(c *Config) bool { return !c.Marketplace.Enabled || c.Marketplace.WAFOn() },
		why: func(*Config) string {
			return "is false; prod's public storefront always sits behind a web ACL: remove the key or set enableWaf: true"
		}},
	{field: "network.natMode", holds: func(c *Config) bool { return c.Network.NatMode == NatPerAZ },
		why: func(c *Config) string {
			return fmt.Sprintf("%q gives prod one NAT gateway, so one zone's outage cuts every zone's egress; prod has one per AZ: set natMode: %s", c.Network.NatMode, NatPerAZ)
		}},
	{field: "cluster.endpointPublicAccess", holds: func(c *Config) bool { return !*c.Cluster.EndpointPublicAccess },
		why: func(*Config) string {
			return "is true; prod's API endpoint is private-only (reach it through the VPN or runners in the VPC): set endpointPublicAccess: false"
		}},
	{field: "cluster.publicAccessCidrs", holds: func(c *Config) bool { return len(c.Cluster.PublicAccessCidrs) == 0 },
		why: func(c *Config) string {
			return fmt.Sprintf("lists %d block(s), but prod has no public API endpoint; remove publicAccessCidrs", len(c.Cluster.PublicAccessCidrs))
		}},
	{field: "cicd.planEnvironment", holds: func(c *Config) bool { return c.CICD.PlanEnvironment == ProdPlanEnvironment },
		why: func(c *Config) string {
			if c.CICD.PlanEnvironment == "" {
				return "is missing; prod plans must wait for an approval: set planEnvironment: " + ProdPlanEnvironment
			}
			return fmt.Sprintf("%q is not prod's own plan environment; prod's plan role may trust only %s (the environment whose reviewers approve each prod plan in infra-ci.yml): set planEnvironment: %s",
				c.CICD.PlanEnvironment, ProdPlanEnvironment, ProdPlanEnvironment)
		}},
	minRetention("network.flowLogRetentionDays", func(c *Config) int { return c.Network.FlowLogRetentionDays }, "VPC flow logs"),
	minRetention("cluster.logRetentionDays", func(c *Config) int { return c.Cluster.LogRetentionDays }, "EKS control-plane logs"),
	minRetention("cdn.wafLogRetentionDays", func(c *Config) int { return c.CDN.WafLogRetentionDays }, "WAF request logs"),
	minRetention("storage.logRetentionDays", func(c *Config) int { return c.Storage.LogRetentionDays }, "S3 access logs"),
	minRetention("observability.lokiRetentionDays", func(c *Config) int { return c.Observability.LokiRetentionDays }, "cluster logs in Loki"),
	minRetention("accountBaseline.retentionDays", func(c *Config) int { return c.AccountBaseline.RetentionDays }, "CloudTrail and Config records"),
}

func minRetention(field string, get func(*Config) int, what string) invariant {
	return invariant{field: field,
		holds: func(c *Config) bool { return get(c) >= ProdMinRetentionDays[field] },
		why: func(c *Config) string {
			return fmt.Sprintf("%d days is shorter than prod keeps %s (at least %d): set %d or more, or remove the key for that default",
				get(c), what, ProdMinRetentionDays[field], ProdMinRetentionDays[field])
		}}
}

// validateInvariants refuses a prod file that would weaken a prod rule.
func validateInvariants(p *problems, c *Config) {
	if !c.IsProd() {
		return
	}
	var failed []string
	for _, inv := range prodInvariants {
		if inv.holds(c) {
			continue
		}
		if !p.src.has(inv.field) && slices.Contains(failed, inv.from) {
			continue
		}
		failed = append(failed, inv.field)
		p.add(inv.field, "%s", inv.why(c))
	}
}

// applyProdDefaults makes prod's defaults satisfy every invariant, before
// the file is decoded over them.
func applyProdDefaults(c *Config) {
	if !c.IsProd() {
		return
	}
	setStr(&c.Network.NatMode, NatPerAZ)
	if !c.CDN.EnableWAF {
		c.CDN.EnableWAF = true
	}
	setInt(&c.Network.FlowLogRetentionDays, ProdMinRetentionDays["network.flowLogRetentionDays"])
	setInt(&c.Cluster.LogRetentionDays, ProdMinRetentionDays["cluster.logRetentionDays"])
	setStr(&c.CICD.PlanEnvironment, ProdPlanEnvironment)
}
