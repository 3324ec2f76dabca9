package observability

import (
	"fmt"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// Replicated reports whether Loki and Tempo run replicated over the AZs:
// everywhere but dev, which keeps one pod of each (on the same S3 storage).
func Replicated(cfg *envs.Config) bool { return cfg.Protect() }

// Service is a Service of the observability namespace and its port.
type Service struct {
	Name string
	Port int
}

// URL is the service's in-cluster http URL.
func (s Service) URL() string { return ServiceURL(s.Name, s.Port) }

// HostPort is "<service>.<namespace>.svc:<port>", for gRPC clients.
func (s Service) HostPort() string { return fmt.Sprintf("%s.%s.svc:%d", s.Name, Namespace, s.Port) }

// Endpoints are the Services Loki and Tempo answer on, which follow how
// they are deployed (read from each pinned chart's templates).
type Endpoints struct {
	// LokiPush receives logs (Alloy, the collector's OTLP logs).
	LokiPush Service
	// LokiQuery answers Grafana and spctl verify.
	LokiQuery Service
	// TempoOTLP receives spans from the collector (gRPC).
	TempoOTLP Service
	// TempoQuery answers Grafana and spctl verify.
	TempoQuery Service
}

// EndpointsFor returns the Services of one deployment. One pod each
// (Loki's monolithic mode, the single-binary tempo chart): "loki" and
// "tempo" serve everything. Replicated (Loki's simple scalable mode,
// tempo-distributed): writes go to loki-write and tempo-distributor,
// queries to loki-read and tempo-query-frontend.
func EndpointsFor(replicated bool) Endpoints {
	if !replicated {
		return Endpoints{
			LokiPush: Service{LokiRelease, LokiPort}, LokiQuery: Service{LokiRelease, LokiPort},
			TempoOTLP: Service{TempoRelease, OTLPGRPCPort}, TempoQuery: Service{TempoRelease, TempoQueryPort},
		}
	}
	return Endpoints{
		LokiPush: Service{LokiRelease + "-write", LokiPort}, LokiQuery: Service{LokiRelease + "-read", LokiPort},
		TempoOTLP: Service{TempoRelease + "-distributor", OTLPGRPCPort}, TempoQuery: Service{TempoRelease + "-query-frontend", TempoQueryPort},
	}
}
