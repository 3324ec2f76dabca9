package cost

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

// volume is one kind of persistent volume a chart's values ask for.
type volume struct {
	what   string
	count  int
	sizeGi float64
}

// chartVolumes reads, from the values a release passes, the volumes each
// chart we install creates: one gp3 volume per replica of every stateful
// component. The keys are each chart's own at its pinned version; a
// component whose size the values leave to the chart's default is not
// priced (and reported in the line's detail).
var chartVolumes = map[string]func(v map[string]any) []volume{
	"nats": func(v map[string]any) []volume {
		cfg := sub(v, "config")
		replicas := 1
		if sub(cfg, "cluster")["enabled"] == true {
			replicas = intOf(sub(cfg, "cluster")["replicas"])
		}
		return []volume{{"JetStream", replicas, gi(sub(sub(sub(cfg, "jetstream"), "fileStore"), "pvc")["size"])}}
	},
	"loki": func(v map[string]any) []volume {
		var out []volume
		for _, c := range []string{"singleBinary", "write", "backend"} {
			p := sub(sub(v, c), "persistence")
			if n := intOf(sub(v, c)["replicas"]); n > 0 && (p["enabled"] == true || p["volumeClaimsEnabled"] == true) {
				out = append(out, volume{"Loki " + c, n, gi(p["size"])})
			}
		}
		return out
	},
	"tempo": func(v map[string]any) []volume {
		if p := sub(v, "persistence"); p["enabled"] == true {
			return []volume{{"Tempo", 1, gi(p["size"])}}
		}
		return nil
	},
	"tempo-distributed": func(v map[string]any) []volume {
		in := sub(v, "ingester")
		if p := sub(in, "persistence"); p["enabled"] == true {
			return []volume{{"Tempo ingester", intOf(in["replicas"]), gi(p["size"])}}
		}
		return nil
	},
	"kube-prometheus-stack": func(v map[string]any) []volume {
		claim := func(spec map[string]any) float64 {
			return gi(sub(sub(sub(sub(spec, "volumeClaimTemplate"), "spec"), "resources"), "requests")["storage"])
		}
		out := []volume{{"Prometheus", 1, claim(sub(sub(sub(v, "prometheus"), "prometheusSpec"), "storageSpec"))}}
		if am := sub(sub(v, "alertmanager"), "alertmanagerSpec"); len(sub(am, "storage")) > 0 {
			n := intOf(am["replicas"])
			if n == 0 {
				n = 1 // the chart's default
			}
			out = append(out, volume{"Alertmanager", n, claim(sub(am, "storage"))})
		}
		return out
	},
}

// helmVolumes prices the persistent volumes of one release; a release of
// a chart without volumes is free (its pods run on the priced nodes).
func helmVolumes(res string, r gjson.Result) ([]Line, kind) {
	read, ok := chartVolumes[r.Get("chart").String()]
	if !ok {
		return nil, free
	}
	var values map[string]any
	if err := yaml.Unmarshal([]byte(r.Get("values.0").String()), &values); err != nil {
		return []Line{{Resource: res, Detail: "values are not YAML: " + err.Error(), Unconfirmed: true}}, priced
	}
	var lines []Line
	for _, vol := range read(values) {
		if vol.count == 0 || vol.sizeGi == 0 {
			lines = append(lines, Line{Resource: res + " " + vol.what + " volumes", Detail: "size left to the chart's default: not priced", Unconfirmed: true})
			continue
		}
		l := monthly(res+" "+vol.what+" volumes", float64(vol.count)*vol.sizeGi, EBSgp3)
		l.Detail = fmt.Sprintf("%d × %g GB gp3 × %.4g USD/GB-month", vol.count, vol.sizeGi, EBSgp3.USD)
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return nil, free
	}
	return lines, priced
}

func sub(v map[string]any, key string) map[string]any {
	out, _ := v[key].(map[string]any)
	return out
}

func intOf(v any) int {
	n, _ := v.(int)
	return n
}

// gi parses a Kubernetes quantity in Gi ("50Gi"); anything else is 0.
func gi(v any) float64 {
	s, _ := v.(string)
	n, err := strconv.ParseFloat(strings.TrimSuffix(s, "Gi"), 64)
	if err != nil || !strings.HasSuffix(s, "Gi") {
		return 0
	}
	return n
}
