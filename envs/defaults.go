package envs

import "github.com/spatialprops/spatialprops-infra/edge"

// Defaults used when a field is absent from the env file. Each value is
// documented on the Config field it fills.
const (
	DefaultKubernetesVersion    = "1.35"
	DefaultNatMode              = NatSingle
	DefaultFlowLogRetentionDays = 90
	DefaultClusterLogDays       = 90
	DefaultPublicAccessPrefix   = 16
	DefaultInstanceType         = "m6i.large"
	DefaultMinSize              = 2
	DefaultDesiredSize          = 3
	DefaultMaxSize              = 6
	DefaultDiskSizeGiB          = 50
	DefaultNoncurrentIADays     = 30
	DefaultNoncurrentGlacierIR  = 90
	DefaultNoncurrentExpireDays = 365
	DefaultAbortMultipartDays   = 7
	DefaultAccessLogDays        = 365
	DefaultRateLimitPer5Min     = 2000
	DefaultPriceClass           = "PriceClass_All"
	DefaultKeepTaggedImages     = 30
	DefaultPromRetention        = "15d"
	DefaultPromStorageGi        = 50
	DefaultLokiStorageGi        = 10
	DefaultLokiRetentionDays    = 30
	DefaultTempoStorageGi       = 10
	DefaultJetStreamStorageGi   = 10
	DefaultBaselineDays         = 365
	DefaultWafLogDays           = 90
)

// EKSLogTypes are every control-plane log type EKS can ship.
var EKSLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// DevEKSLogTypes are dev's default: who called the API and who they were.
var DevEKSLogTypes = []string{"api", "audit", "authenticator"}

// MinPublicAccessPrefix is the widest publicAccessWidestPrefix a file may
// set: a /8 is already 16.7 million addresses.
const MinPublicAccessPrefix = 8

// DefaultServices are the guide's three ECR repositories plus the services
// of the edge additions: the DTN gateway and the two uplink adapters, the
// beacon registry's API, admin UI and rotation job, crl-sync (the presigner
// trust store's revocation list), device enrollment, the CDN presigner and
// the replay detector (edge-sync).
var DefaultServices = []string{"pack-service", "frontend", "mcp-gateway", "dtn-gateway", "uplink-satellite", "uplink-lpwan",
	"beacons", "beacons-admin", "beacon-rotate", "crl-sync", "device-enrollment", "cdn-presigner", "edge-sync"}

// applyDefaults fills zero values. Parse then decodes the file over the
// result, so a value the file sets (even 0 or "") is never replaced.
func applyDefaults(c *Config) {
	applyProdDefaults(c)
	n := &c.Network
	setStr(&n.NatMode, DefaultNatMode)
	setInt(&n.FlowLogRetentionDays, DefaultFlowLogRetentionDays)

	k := &c.Cluster
	setStr(&k.Version, DefaultKubernetesVersion)
	setInt(&k.LogRetentionDays, DefaultClusterLogDays)
	if len(k.LogTypes) == 0 {
		k.LogTypes = append([]string(nil), EKSLogTypes...)
		if !c.Protect() {
			k.LogTypes = append([]string(nil), DevEKSLogTypes...)
		}
	}
	setInt(&k.PublicAccessWidestPrefix, DefaultPublicAccessPrefix)
	if k.EndpointPublicAccess == nil {
		public := !c.IsProd()
		k.EndpointPublicAccess = &public
	}
	g := &k.NodeGroup
	if len(g.InstanceTypes) == 0 {
		g.InstanceTypes = []string{DefaultInstanceType}
	}
	setStr(&g.CapacityType, CapacityOnDemand)
	setInt(&g.MinSize, DefaultMinSize)
	setInt(&g.DesiredSize, DefaultDesiredSize)
	setInt(&g.MaxSize, DefaultMaxSize)
	setInt(&g.DiskSizeGiB, DefaultDiskSizeGiB)

	s := &c.Storage
	setInt(&s.NoncurrentIADays, DefaultNoncurrentIADays)
	setInt(&s.NoncurrentGlacierIRDays, DefaultNoncurrentGlacierIR)
	setInt(&s.NoncurrentExpireDays, DefaultNoncurrentExpireDays)
	setInt(&s.AbortMultipartDays, DefaultAbortMultipartDays)
	setInt(&s.LogRetentionDays, DefaultAccessLogDays)
	if len(s.CorsAllowedOrigins) == 0 {
		s.CorsAllowedOrigins = []string{"*"}
	}

	d := &c.CDN
	if d.Domain == "" && c.Domain != "" {
		d.Domain = "cdn." + c.Env + "." + c.Domain
		if c.IsProd() {
			d.Domain = "cdn." + c.Domain
		}
	}
	setInt(&d.RateLimitPer5Min, DefaultRateLimitPer5Min)
	setInt(&d.WafLogRetentionDays, DefaultWafLogDays)
	setStr(&d.PriceClass, DefaultPriceClass)

	ci := &c.CICD
	if len(ci.Services) == 0 {
		ci.Services = append([]string(nil), DefaultServices...)
	}
	setInt(&ci.KeepTaggedImages, DefaultKeepTaggedImages)

	o := &c.Observability
	setStr(&o.PrometheusRetention, DefaultPromRetention)
	setInt(&o.PrometheusStorageGi, DefaultPromStorageGi)
	setInt(&o.LokiStorageGi, DefaultLokiStorageGi)
	setInt(&o.LokiRetentionDays, DefaultLokiRetentionDays)
	setInt(&o.TempoStorageGi, DefaultTempoStorageGi)

	setInt(&c.AccountBaseline.RetentionDays, DefaultBaselineDays)

	e := &c.Edge
	setInt(&e.EnvelopeMaxBytes, edge.MaxEnvelopeBytes)
	setInt(&e.JetStreamStorageGi, DefaultJetStreamStorageGi)
	defaultP2PBridge(&e.P2PBridge)

	defaultMarketplace(c)
	defaultWorkloadRepositories(c)
	applyIdentityDefaults(c)
	applyBackupDefaults(c)
}

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}
