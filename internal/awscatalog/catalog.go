// Package awscatalog answers, offline, the questions AWS would answer at
// apply time: is this a region, which availability zones does it have, is
// this an EC2 instance type, and which zones of a region offer it.
//
// Two pinned files in this folder hold the answers, both written by the
// refresh command (`go run ./internal/awscatalog/refresh`, see its doc):
//
//   - regions.txt: every region of every partition, copied from the AWS SDK
//     for Go v2's endpoint metadata (internal/endpoints/awsrulesfn/
//     partitions.json) at the SDK version go.mod pins.
//   - ec2.tsv: for each region, its availability zones and the zones each
//     instance type is offered in: EC2's own DescribeAvailabilityZones and
//     DescribeInstanceTypeOfferings answers, and each type's processor
//     architectures (DescribeInstanceTypes), as read on the date in its
//     header.
//
// A region the SDK knows but ec2.tsv has no zones for is reported as such
// (refresh the file), never guessed.
package awscatalog

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

var (
	//go:embed regions.txt
	regionsFile string
	//go:embed ec2.tsv
	ec2File string
)

// RefreshCommand regenerates both files (AWS credentials for any account;
// read-only Describe calls).
const RefreshCommand = "go run ./internal/awscatalog/refresh"

// Catalog is the parsed pinned data.
type Catalog struct {
	// partition of each region ("aws", "aws-cn", ...).
	partition map[string]string
	// zones of each region, as letters ("abc").
	zones map[string]string
	// offers[region][instanceType] are the zone letters offering it.
	offers map[string]map[string]string
	types  map[string]bool
	// arch of each instance type ("x86_64", "arm64", ...).
	arch map[string][]string
	// RegionsSource and EC2Source are the files' provenance lines.
	RegionsSource, EC2Source string
}

var (
	once    sync.Once
	catalog *Catalog
	loadErr error
)

// Default is the catalogue built into this binary.
func Default() *Catalog {
	once.Do(func() { catalog, loadErr = Parse(regionsFile, ec2File) })
	if loadErr != nil {
		panic("internal/awscatalog: " + loadErr.Error()) // a broken pinned file is a build defect
	}
	return catalog
}

// Parse reads the two files' contents.
func Parse(regions, ec2 string) (*Catalog, error) {
	c := &Catalog{partition: map[string]string{}, zones: map[string]string{}, offers: map[string]map[string]string{}, types: map[string]bool{}, arch: map[string][]string{}}
	for i, line := range strings.Split(regions, "\n") {
		if src, ok := strings.CutPrefix(line, "# source: "); ok {
			c.RegionsSource = src
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("regions.txt:%d: want \"<partition> <region>\", got %q", i+1, line)
		}
		c.partition[f[1]] = f[0]
	}
	for i, line := range strings.Split(ec2, "\n") {
		if src, ok := strings.CutPrefix(line, "# source: "); ok {
			c.EC2Source = src
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("ec2.tsv:%d: want \"<region>\\t<type or zones>\\t<zone letters>\", got %q", i+1, line)
		}
		region, what, letters := f[0], f[1], f[2]
		if region == "arch" {
			c.arch[what] = strings.Split(letters, ",")
			continue
		}
		if what == "zones" {
			c.zones[region] = letters
			continue
		}
		if c.offers[region] == nil {
			c.offers[region] = map[string]string{}
		}
		c.offers[region][what] = letters
		c.types[what] = true
	}
	return c, nil
}

// Partition returns the partition of region, and whether it is a region.
func (c *Catalog) Partition(region string) (string, bool) {
	p, ok := c.partition[region]
	return p, ok
}

// Regions lists every region, sorted.
func (c *Catalog) Regions() []string { return sortedKeys(c.partition) }

// Zones returns region's availability-zone letters ("abc"), and whether the
// catalogue has zone data for it.
func (c *Catalog) Zones(region string) (string, bool) {
	z, ok := c.zones[region]
	return z, ok
}

// IsInstanceType reports whether any region offers typ.
func (c *Catalog) IsInstanceType(typ string) bool { return c.types[typ] }

// InstanceTypes lists every instance type offered anywhere, sorted.
func (c *Catalog) InstanceTypes() []string { return sortedKeys(c.types) }

// OfferedIn returns the zone letters of region that offer typ ("" when
// none does).
func (c *Catalog) OfferedIn(region, typ string) string { return c.offers[region][typ] }

// Architectures returns the processor architectures of typ (x86_64,
// arm64, ...), or nil when DescribeInstanceTypes did not list it.
func (c *Catalog) Architectures(typ string) []string { return c.arch[typ] }

// TypesIn lists the instance types region offers in at least one zone.
func (c *Catalog) TypesIn(region string) []string { return sortedKeys(c.offers[region]) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
