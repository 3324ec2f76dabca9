package envs

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
)

var (
	slugRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	azRe      = regexp.MustCompile(`^[a-z]$`)
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	retention = regexp.MustCompile(`^[0-9]+(d|w|y)$`)
	roleArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	channelRe = regexp.MustCompile(`^#[a-z0-9][a-z0-9._-]{0,79}$`)
	// Standard topics only: Alertmanager sets no MessageGroupId, which FIFO
	// topics require.
	snsTopicRe = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
)

// CloudWatch Logs accepts only these retention periods (days).
var logRetentionDays = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true,
	90: true, 120: true, 150: true, 180: true, 365: true, 400: true, 545: true, 731: true, 1096: true,
	1827: true, 2192: true, 2557: true, 2922: true, 3288: true, 3653: true}

// problems collects one message per problem, each naming the file, the
// line and the field: "envs/dev.yaml:14: network.privateSubnets[1]: ...".
// A field the file does not write is placed at its nearest enclosing key.
type problems struct {
	src  *source
	over overrides
	errs []error
}

func (p *problems) add(field, format string, args ...any) {
	where := p.src.at(field) + ": " + field
	if v, ok := p.over[field]; ok {
		where = v + " (overrides " + field + " in " + p.src.file + ")"
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

// validate checks every rule and returns all problems joined, one per line.
func validate(c *Config, src *source, over overrides) error {
	c.src = src
	p := &problems{src: src, over: over}
	want := strings.TrimSuffix(path.Base(c.file), ".yaml")

	switch {
	case c.Env == "":
		p.add("env", "is missing; set env: %s", want)
	case c.Env != want:
		p.add("env", "%q does not match the file name; set env: %s", c.Env, want)
	}
	if !slugRe.MatchString(c.Org) {
		p.add("org", "%q must be lowercase letters, digits and inner hyphens (it is part of S3 bucket names), e.g. spatialprops", c.Org)
	}
	regionOK := validateRegion(p, c)
	domainOK := domainProblem(c.Domain) == ""
	if !domainOK {
		p.add("domain", "%s", domainProblem(c.Domain))
	}
	if c.AccountID != "" && !accountRe.MatchString(c.AccountID) {
		p.add("accountId", "%q must be a 12-digit AWS account id, or be left out", c.AccountID)
	}
	validateTags(p, c)
	validateNetwork(p, c, regionOK)
	validateCluster(p, c, regionOK)
	validateCapacity(p, c)
	validateStorage(p, c)
	validateCDN(p, c, domainOK)
	validateCICD(p, c)
	validateObservability(p, c, want)
	validateEdge(p, c)
	validateMarketplace(p, c, want)
	validateIdentity(p, c)
	validateWorkloads(p, c)
	validateBackup(p, c)
	if c.AccountBaseline.RetentionDays < 1 {
		p.add("accountBaseline.retentionDays", "%d must be at least 1", c.AccountBaseline.RetentionDays)
	}
	if c.Env == want { // the prod rules apply once the file is prod's
		validateInvariants(p, c)
	}
	if len(p.errs) == 0 {
		validateDerivedNames(p, c)
	}
	return errors.Join(p.errs...)
}

func validateTags(p *problems, c *Config) {
	if strings.TrimSpace(c.Tags.CostCenter) == "" {
		p.add("tags.CostCenter", "is missing; every resource must carry the paying team, e.g. CostCenter: platform")
	} else if msg := tagValueProblem(c.Tags.CostCenter); msg != "" {
		p.add("tags.CostCenter", "%s", msg)
	}
	switch owner := strings.TrimSpace(c.Tags.Owner); {
	case owner == "":
		p.add("tags.Owner", "is missing; set it to the accountable owner's e-mail, e.g. Owner: sre@spatial.properties")
	default:
		addr, err := mail.ParseAddress(owner)
		if err != nil || addr.Address != owner || !strings.Contains(owner[strings.LastIndex(owner, "@")+1:], ".") {
			p.add("tags.Owner", "%q is not an e-mail address; use a plain address such as sre@spatial.properties", owner)
		} else if msg := tagValueProblem(owner); msg != "" {
			p.add("tags.Owner", "%s", msg)
		}
	}
}

func validateNetwork(p *problems, c *Config, regionOK bool) {
	n := c.Network
	vpc, err := netip.ParsePrefix(n.VpcCidr)
	vpcOK := err == nil && vpc == vpc.Masked() && vpc.Addr().Is4()
	if !vpcOK {
		p.add("network.vpcCidr", "%q is not an IPv4 CIDR block; write the network address, e.g. 10.0.0.0/16", n.VpcCidr)
	} else if vpc.Bits() < 16 || vpc.Bits() > 24 {
		p.add("network.vpcCidr", "%q has a /%d mask; AWS allows /16 to /24 for a VPC", n.VpcCidr, vpc.Bits())
	}
	if len(n.AZs) < 2 {
		p.add("network.azs", "has %d availability zone(s); EKS needs at least 2, the guide uses 3: [a, b, c]", len(n.AZs))
	}
	seenAZ := map[string]bool{}
	for i, az := range n.AZs {
		if !azRe.MatchString(az) {
			p.add(fmt.Sprintf("network.azs[%d]", i), "%q must be a zone letter such as a; the region is prefixed for you", az)
		}
		if seenAZ[az] {
			p.add(fmt.Sprintf("network.azs[%d]", i), "%q is listed twice; each subnet pair needs its own zone", az)
		}
		seenAZ[az] = true
	}
	if regionOK {
		validateZones(p, c)
	}
	if n.NatMode != NatSingle && n.NatMode != NatPerAZ {
		p.add("network.natMode", "%q is not a NAT mode; use %q (dev) or %q (production)", n.NatMode, NatSingle, NatPerAZ)
	}
	if !logRetentionDays[n.FlowLogRetentionDays] {
		p.add("network.flowLogRetentionDays", "%d is not a CloudWatch retention period; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...", n.FlowLogRetentionDays)
	}

	type named struct {
		field  string
		prefix netip.Prefix
	}
	var all []named
	for _, set := range []struct {
		field string
		cidrs []string
	}{{"network.privateSubnets", n.PrivateSubnets}, {"network.publicSubnets", n.PublicSubnets}} {
		if len(set.cidrs) != len(n.AZs) {
			p.add(set.field, "has %d subnet(s) but there are %d AZs; give exactly one per AZ, in AZ order", len(set.cidrs), len(n.AZs))
		}
		for i, s := range set.cidrs {
			field := fmt.Sprintf("%s[%d]", set.field, i)
			sub, err := netip.ParsePrefix(s)
			if err != nil || sub != sub.Masked() || !sub.Addr().Is4() {
				p.add(field, "%q is not an IPv4 CIDR block; write the network address, e.g. 10.0.1.0/24", s)
				continue
			}
			if vpcOK && (sub.Bits() < vpc.Bits() || !vpc.Contains(sub.Addr())) {
				p.add(field, "%s is outside the VPC %s; pick a block inside it", s, n.VpcCidr)
			}
			for _, other := range all {
				if other.prefix.Overlaps(sub) {
					p.add(field, "%s overlaps %s (%s); subnets must not share addresses", s, other.field, other.prefix)
				}
			}
			all = append(all, named{field, sub})
		}
	}
}

func validateCluster(p *problems, c *Config, regionOK bool) {
	k := c.Cluster
	validateKubernetesVersion(p, k.Version)
	if !logRetentionDays[k.LogRetentionDays] {
		p.add("cluster.logRetentionDays", "%d is not a CloudWatch retention period; use e.g. 30, 90 or 365", k.LogRetentionDays)
	}
	if c.Env == strings.TrimSuffix(path.Base(c.file), ".yaml") { // the rules differ by env
		validatePublicAccess(p, c)
	}
	for i, t := range k.LogTypes {
		if !slices.Contains(EKSLogTypes, t) {
			p.add(fmt.Sprintf("cluster.logTypes[%d]", i), "%q is not an EKS log type; use %s", t, strings.Join(EKSLogTypes, ", "))
		}
	}
	if c.Protect() {
		for _, t := range EKSLogTypes {
			if !slices.Contains(k.LogTypes, t) {
				p.add("cluster.logTypes", "is missing %s; %s must ship all five control-plane logs (%s), or leave logTypes out", t, c.Env, strings.Join(EKSLogTypes, ", "))
			}
		}
	}
	switch arn := k.BreakGlassRoleArn; {
	case arn == "":
		p.add("cluster.breakGlassRoleArn", "is missing; name the audited IAM role that gets cluster-admin in an emergency, e.g. arn:aws:iam::<account>:role/%s-%s-break-glass", c.Org, c.Env)
	case !roleArnRe.MatchString(arn):
		p.add("cluster.breakGlassRoleArn", "%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
	case c.AccountID != "" && strings.Split(arn, ":")[4] != c.AccountID:
		p.add("cluster.breakGlassRoleArn", "%q is in another account than accountId %s; use a role of this env's account", arn, c.AccountID)
	}
	g := k.NodeGroup
	if g.MinSize < 1 {
		p.add("cluster.nodeGroup.minSize", "%d must be at least 1 so system pods (CoreDNS, the autoscaler) always have a node; set 1 or more, or leave it out for the default %d", g.MinSize, DefaultMinSize)
	}
	if g.MaxSize < g.MinSize {
		p.add("cluster.nodeGroup.maxSize", "%d is below minSize %d; raise maxSize or lower minSize", g.MaxSize, g.MinSize)
	}
	if g.DesiredSize < g.MinSize || g.DesiredSize > g.MaxSize {
		p.add("cluster.nodeGroup.desiredSize", "%d must lie between minSize %d and maxSize %d", g.DesiredSize, g.MinSize, g.MaxSize)
	}
	if g.DiskSizeGiB < 20 || g.DiskSizeGiB > 16384 {
		p.add("cluster.nodeGroup.diskSizeGiB", "%d must be between 20 and 16384 GiB", g.DiskSizeGiB)
	}
	if len(g.InstanceTypes) == 0 {
		p.add("cluster.nodeGroup.instanceTypes", "is empty; name at least one EC2 instance type, or leave it out for the default %s", DefaultInstanceType)
	}
	for i, t := range g.InstanceTypes {
		validateInstanceType(p, c, fmt.Sprintf("cluster.nodeGroup.instanceTypes[%d]", i), t, regionOK)
	}
}

func validateStorage(p *problems, c *Config) {
	s := c.Storage
	if s.NoncurrentIADays < 30 {
		p.add("storage.noncurrentIADays", "%d is below 30; S3 refuses STANDARD_IA transitions earlier than 30 days", s.NoncurrentIADays)
	}
	if s.NoncurrentGlacierIRDays <= s.NoncurrentIADays {
		p.add("storage.noncurrentGlacierIRDays", "%d must be greater than noncurrentIADays (%d)", s.NoncurrentGlacierIRDays, s.NoncurrentIADays)
	}
	if s.NoncurrentExpireDays <= s.NoncurrentGlacierIRDays {
		p.add("storage.noncurrentExpireDays", "%d must be greater than noncurrentGlacierIRDays (%d)", s.NoncurrentExpireDays, s.NoncurrentGlacierIRDays)
	}
	if s.AbortMultipartDays < 1 {
		p.add("storage.abortMultipartDays", "%d must be at least 1", s.AbortMultipartDays)
	}
	if s.LogRetentionDays < 1 {
		p.add("storage.logRetentionDays", "%d must be at least 1", s.LogRetentionDays)
	}
	for i, o := range s.CorsAllowedOrigins {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://localhost") {
			p.add(fmt.Sprintf("storage.corsAllowedOrigins[%d]", i), "%q must be *, an https:// origin, or http://localhost[:port]", o)
		}
	}
}

func validateCDN(p *problems, c *Config, domainOK bool) {
	d := c.CDN
	if msg := domainProblem(d.Domain); msg != "" {
		if domainOK { // otherwise the default cdn.domain repeats domain's problem
			p.add("cdn.domain", "%s", msg)
		}
	} else if domainOK && d.Domain != c.Domain && !strings.HasSuffix(d.Domain, "."+c.Domain) {
		p.add("cdn.domain", "%q is not inside the domain %q, so its certificate cannot be validated in that zone", d.Domain, c.Domain)
	}
	if d.RateLimitPer5Min < 100 {
		p.add("cdn.rateLimitPer5Min", "%d is below WAF's minimum of 100 requests per 5 minutes", d.RateLimitPer5Min)
	}
	if !logRetentionDays[d.WafLogRetentionDays] {
		p.add("cdn.wafLogRetentionDays", "%d is not a CloudWatch retention period; use e.g. 30, 90 or 365", d.WafLogRetentionDays)
	}
	switch d.PriceClass {
	case "PriceClass_All", "PriceClass_200", "PriceClass_100":
	default:
		p.add("cdn.priceClass", "%q must be PriceClass_All, PriceClass_200 or PriceClass_100", d.PriceClass)
	}
}

func validateCICD(p *problems, c *Config) {
	ci := c.CICD
	seen := map[string]bool{}
	for i, s := range ci.Services {
		if !slugRe.MatchString(s) || seen[s] {
			p.add(fmt.Sprintf("cicd.services[%d]", i), "%q must be a unique lowercase name such as pack-service", s)
		}
		seen[s] = true
	}
	if ci.GitHubOrg == "" || strings.Contains(ci.GitHubOrg, "/") {
		p.add("cicd.githubOrg", "%q must be the GitHub organisation that owns the repository", ci.GitHubOrg)
	}
	if ci.GitHubRepo == "" || strings.Contains(ci.GitHubRepo, "/") {
		p.add("cicd.githubRepo", "%q must be the repository name without the organisation", ci.GitHubRepo)
	}
	if ci.PlanEnvironment != "" && !slugRe.MatchString(ci.PlanEnvironment) {
		p.add("cicd.planEnvironment", "%q must be a GitHub environment name such as %s-plan", ci.PlanEnvironment, c.Env)
	}
	if ci.KeepTaggedImages < 1 {
		p.add("cicd.keepTaggedImages", "%d must be at least 1", ci.KeepTaggedImages)
	}
}

// env is the file's environment, so a wrong env: line gives one error, not
// a cascade.
func validateObservability(p *problems, c *Config, env string) {
	o := c.Observability
	if !retention.MatchString(o.PrometheusRetention) {
		p.add("observability.prometheusRetention", "%q is not a Prometheus duration such as 15d", o.PrometheusRetention)
	}
	for _, f := range []struct {
		field string
		v     int
	}{{"observability.prometheusStorageGi", o.PrometheusStorageGi},
		{"observability.lokiStorageGi", o.LokiStorageGi}, {"observability.tempoStorageGi", o.TempoStorageGi}} {
		if f.v < 1 || f.v > 16384 {
			p.add(f.field, "%d must be between 1 and 16384 Gi", f.v)
		}
	}
	if o.LokiRetentionDays < 1 || o.LokiRetentionDays > 365 {
		p.add("observability.lokiRetentionDays", "%d must be between 1 and 365 days; Loki deletes whole days of logs, and the volume must hold them (e.g. 14 in dev, 30 in prod)", o.LokiRetentionDays)
	}
	validateAlerting(p, c.Observability.Alerting, env)
}

func validateAlerting(p *problems, a Alerting, env string) {
	const where = "see docs/observability.md#alert-routing"
	if a.SlackChannel != "" && !channelRe.MatchString(a.SlackChannel) {
		p.add("observability.alerting.slackChannel", "%q is not a Slack channel; use e.g. \"#spatialprops-%s-alerts\"", a.SlackChannel, env)
	}
	if a.SNSTopicArn != "" && !snsTopicRe.MatchString(a.SNSTopicArn) {
		p.add("observability.alerting.snsTopicArn", "%q is not the ARN of a standard SNS topic (arn:aws:sns:<region>:<account>:<name>; FIFO topics cannot take alerts)", a.SNSTopicArn)
	}
	switch {
	case a.AllowNullReceiver && env != "dev":
		p.add("observability.alerting.allowNullReceiver", "is allowed only in dev; %s alerts must reach people: set slackChannel, pagerDuty or snsTopicArn (%s)", env, where)
	case a.AllowNullReceiver && a.HasReceiver():
		p.add("observability.alerting.allowNullReceiver", "is true while a receiver is named; remove it so nobody mistakes which one applies")
	case !a.HasReceiver() && !a.AllowNullReceiver && env == "dev":
		p.add("observability.alerting", "names no receiver, so alerts would notify no one; set slackChannel, pagerDuty or snsTopicArn, or allowNullReceiver: true to accept that in dev (%s)", where)
	case !a.HasReceiver() && !a.AllowNullReceiver:
		p.add("observability.alerting", "names no receiver, so alerts would notify no one; set slackChannel, pagerDuty or snsTopicArn (%s)", where)
	}
}

func validateEdge(p *problems, c *Config) {
	e := c.Edge
	if e.EnvelopeMaxBytes < 1 || e.EnvelopeMaxBytes > edge.MaxEnvelopeBytes {
		p.add("edge.envelopeMaxBytes", "%d must be between 1 and 51200 (50 KB)", e.EnvelopeMaxBytes)
	}
	if e.JetStreamStorageGi < 1 || e.JetStreamStorageGi > 16384 {
		p.add("edge.jetStreamStorageGi", "%d must be between 1 and 16384 Gi", e.JetStreamStorageGi)
	}
	validateP2PBridge(p, e.P2PBridge)
	validateAdminOIDC(p, c)
}

// validateDerivedNames catches names AWS would reject at apply time, long
// after a plan looked fine.
func validateDerivedNames(p *problems, c *Config) {
	n := naming.New(c.Org, c.Env, c.Region)
	if b := longest(n.Buckets()); len(b) > naming.MaxBucketName {
		p.add("org", "derived S3 bucket name %q is %d characters; AWS allows %d: shorten org", b, len(b), naming.MaxBucketName)
	} else if r := longest(n.Roles(c.CICD.Services...)); len(r) > naming.MaxRoleName {
		p.add("org", "derived IAM role name %q is %d characters; AWS allows %d: shorten org", r, len(r), naming.MaxRoleName)
	} else if conn := n.GitHubConnection(); len(conn) > naming.MaxConnectionName {
		p.add("org", "derived CodeConnections name %q is %d characters; AWS allows %d: shorten org", conn, len(conn), naming.MaxConnectionName)
	}
}

func longest(names []string) string {
	out := ""
	for _, n := range names {
		if len(n) > len(out) {
			out = n
		}
	}
	return out
}
