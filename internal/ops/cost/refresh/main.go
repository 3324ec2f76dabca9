// Command refresh rewrites the pinned EC2 price extract that the price
// table in internal/ops/cost/prices.go is tested against:
//
//	go run ./internal/ops/cost/refresh            # from the repository root
//
// The source is the ec2instances.info data set (itself built from the AWS
// Price List API and the EC2 Spot price history) as shipped, checksummed,
// in the Go module named by -module. `go mod download` fetches that exact
// version and verifies it against the Go checksum database, so anyone can
// reproduce the extract byte for byte; nothing is read from a web page.
// The module is not a dependency of this repository: only its data file
// is read. No AWS credentials are needed. The call has a 5-minute deadline.
//
// To move to newer prices: pick a newer version of the module, run this
// with -module, review the diff of the extract, and update prices.go until
// `go test ./internal/ops/cost` passes.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultModule is the pinned source: module path @ exact version.
const DefaultModule = "github.com/cristim/ec2-instances-info@v0.0.0-20250528091325-32acf84f42eb"

// DefaultTypes are the instance types the stacks run (every node type of
// envs/*.yaml) plus the Graviton types docs/cost.md compares them with.
var DefaultTypes = []string{
	"m6i.large", "m6i.xlarge", "m6a.large", "m5.large", "m7i-flex.large", "m7a.large",
	"m6g.large", "m7g.large", "t4g.large",
}

func main() {
	module := flag.String("module", DefaultModule, "module@version that ships data/instances.json")
	region := flag.String("region", "ap-southeast-2", "region to extract")
	types := flag.String("types", strings.Join(DefaultTypes, ","), "comma-separated instance types")
	out := flag.String("out", "internal/ops/cost/prices-ec2.json", "extract to write")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, *module, *region, strings.Split(*types, ","), *out); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Extract is the file the price-table test reads.
type Extract struct {
	Source    string         `json:"source"`
	Module    string         `json:"module"`
	ModuleSum string         `json:"moduleSum"`
	Published string         `json:"published"`
	File      string         `json:"file"`
	Region    string         `json:"region"`
	Note      string         `json:"note"`
	Instances map[string]EC2 `json:"instances"`
}

// EC2 is one instance type's Linux prices in USD per hour.
type EC2 struct {
	Arch     []string `json:"arch"`
	VCPU     int      `json:"vcpu"`
	MemGiB   float64  `json:"memoryGiB"`
	OnDemand float64  `json:"onDemandUsdPerHour"`
	// SpotByZone are the Spot prices of the region's zones on the day the
	// data set was built; SpotMax is their highest.
	SpotByZone []float64 `json:"spotUsdPerHourByZone"`
	SpotMax    float64   `json:"spotMaxUsdPerHour"`
}

func run(ctx context.Context, module, region string, types []string, out string) error {
	dl, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", module).Output()
	if err != nil {
		return fmt.Errorf("go mod download %s: %w", module, err)
	}
	var info struct{ Dir, Sum, Time, Error string }
	if err := json.Unmarshal(dl, &info); err != nil || info.Error != "" {
		return fmt.Errorf("go mod download %s: %v %s", module, err, info.Error)
	}
	// The commit time of that version: when the data set was built.
	when, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Time}}", module).Output()
	if err != nil {
		return fmt.Errorf("go list -m %s: %w", module, err)
	}
	info.Time = strings.TrimSpace(string(when))
	raw, err := os.ReadFile(filepath.Join(info.Dir, "data", "instances.json"))
	if err != nil {
		return err
	}
	ex, err := extract(raw, region, types)
	if err != nil {
		return err
	}
	ex.Module, ex.ModuleSum, ex.Published, ex.File, ex.Region = module, info.Sum, info.Time, "data/instances.json", region
	ex.Source = "ec2instances.info (Vantage) instance data, built from the AWS Price List API and EC2 Spot price history, as shipped in the Go module below"
	ex.Note = "on-demand: Linux, shared tenancy; Spot: the zone prices of the day the data set was built (they move hourly). Regenerate with `go run ./internal/ops/cost/refresh`."
	b, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

// dataInstance is the part of one data-set entry the extract reads.
type dataInstance struct {
	Type    string          `json:"instance_type"`
	Arch    []string        `json:"arch"`
	VCPU    json.RawMessage `json:"vCPU"`
	Memory  json.RawMessage `json:"memory"`
	Pricing map[string]struct {
		Linux struct {
			OnDemand string   `json:"ondemand"`
			Spot     []string `json:"spot"`
		} `json:"linux"`
	} `json:"pricing"`
}

// extract picks the types from the data set; a type it lacks, or one
// without an on-demand price in region, is an error rather than a gap.
func extract(raw []byte, region string, types []string) (*Extract, error) {
	var all []dataInstance
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("data/instances.json: %w", err)
	}
	ex := &Extract{Instances: map[string]EC2{}}
	var errs []error
	for _, want := range types {
		i := slices.IndexFunc(all, func(x dataInstance) bool { return x.Type == want })
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s: not in the data set", want))
			continue
		}
		p, ok := all[i].Pricing[region]
		od, err := strconv.ParseFloat(p.Linux.OnDemand, 64)
		if !ok || err != nil {
			errs = append(errs, fmt.Errorf("%s: no on-demand Linux price in %s", want, region))
			continue
		}
		e := EC2{Arch: all[i].Arch, OnDemand: od}
		_ = json.Unmarshal(all[i].VCPU, &e.VCPU)
		_ = json.Unmarshal(all[i].Memory, &e.MemGiB)
		for _, s := range p.Linux.Spot {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: spot price %q: %w", want, s, err))
				continue
			}
			e.SpotByZone = append(e.SpotByZone, v)
			e.SpotMax = max(e.SpotMax, v)
		}
		ex.Instances[want] = e
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ex, nil
}
