package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const data = `[
 {"instance_type":"m6i.large","arch":["x86_64"],"vCPU":2,"memory":8,
  "pricing":{"ap-southeast-2":{"linux":{"ondemand":"0.12","spot":["0.0399","0.045","0.0409"]}}}},
 {"instance_type":"m7g.large","arch":["arm64"],"vCPU":2,"memory":8,
  "pricing":{"us-east-1":{"linux":{"ondemand":"0.0816"}}}}
]`

func TestExtractPicksTheRegionAndTheDearestZone(t *testing.T) {
	ex, err := extract([]byte(data), "ap-southeast-2", []string{"m6i.large"})
	require.NoError(t, err)
	e := ex.Instances["m6i.large"]
	assert.Equal(t, 0.12, e.OnDemand)
	assert.Equal(t, []float64{0.0399, 0.045, 0.0409}, e.SpotByZone)
	assert.Equal(t, 0.045, e.SpotMax)
	assert.Equal(t, 2, e.VCPU)
	assert.Equal(t, []string{"x86_64"}, e.Arch)
}

func TestExtractRefusesGaps(t *testing.T) {
	// A type missing from the data set, or without a price in the region,
	// fails the refresh instead of leaving a hole in the extract.
	_, err := extract([]byte(data), "ap-southeast-2", []string{"m7g.large", "x9.huge"})
	require.Error(t, err)
	assert.Equal(t, "m7g.large: no on-demand Linux price in ap-southeast-2\nx9.huge: not in the data set", err.Error())
}
