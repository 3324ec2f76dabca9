package cost

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// extract is the part of prices-ec2.json the table is checked against.
type extract struct {
	Module    string `json:"module"`
	ModuleSum string `json:"moduleSum"`
	Region    string `json:"region"`
	Instances map[string]struct {
		Arch     []string `json:"arch"`
		OnDemand float64  `json:"onDemandUsdPerHour"`
		SpotMax  float64  `json:"spotMaxUsdPerHour"`
	} `json:"instances"`
}

func readExtract(t *testing.T) extract {
	t.Helper()
	raw, err := os.ReadFile("prices-ec2.json") // ExtractFile, from this package's folder
	require.NoError(t, err)
	var ex extract
	require.NoError(t, json.Unmarshal(raw, &ex))
	return ex
}

// GIVEN the pinned extract THEN every EC2 rate in the table equals it, in
// both directions: a rate typed by hand, or an extract refreshed without
// updating the table, fails here.
func TestInstancePricesMatchThePinnedExtract(t *testing.T) {
	ex := readExtract(t)
	assert.Equal(t, ExtractModule, ex.Module, "PriceSource must name the module the extract came from")
	assert.Regexp(t, `^h1:[A-Za-z0-9+/=]{44}$`, ex.ModuleSum, "the checksum lets anyone verify the data set")
	assert.Equal(t, "ap-southeast-2", ex.Region)

	var inTable, inExtract []string
	for typ, p := range InstanceHour {
		inTable = append(inTable, typ)
		e, ok := ex.Instances[typ]
		if assert.True(t, ok, "%s is priced but not in the extract", typ) {
			assert.Equal(t, e.OnDemand, p.USD, "%s on-demand", typ)
			assert.True(t, p.Confirmed, "%s comes from the extract", typ)
		}
		s, ok := SpotHour[typ]
		if assert.True(t, ok, "%s has no Spot price", typ) && ok {
			assert.Equal(t, e.SpotMax, s.USD, "%s Spot", typ)
			assert.Less(t, s.USD, p.USD, "%s: Spot above on-demand means a mix-up", typ)
		}
	}
	for typ := range ex.Instances {
		inExtract = append(inExtract, typ)
	}
	assert.Len(t, SpotHour, len(InstanceHour))
	sort.Strings(inTable)
	sort.Strings(inExtract)
	assert.Equal(t, inExtract, inTable, "table and extract list the same types")
}

// GIVEN the shipped envs THEN every node type they run is in the extract,
// so no node group is priced from a figure without a source.
func TestEveryNodeTypeTheEnvsRunHasASourcedPrice(t *testing.T) {
	ex := readExtract(t)
	cfgs, err := envs.LoadSelected(envs.Overrides{})
	require.NoError(t, err)
	for _, c := range cfgs {
		for _, typ := range c.Cluster.NodeGroup.InstanceTypes {
			e, ok := ex.Instances[typ]
			if assert.True(t, ok, "%s runs %s, which the extract lacks: add it to refresh.DefaultTypes and rerun", c.Env, typ) {
				assert.Equal(t, []string{"x86_64"}, e.Arch, "%s: the node AMI is x86_64", typ)
			}
		}
	}
}
