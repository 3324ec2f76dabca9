package suggest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNearest(t *testing.T) {
	keys := []string{"vpcCidr", "azs", "privateSubnets", "publicSubnets", "natMode", "flowLogRetentionDays"}
	assert.Equal(t, "natMode", Nearest("natmode", keys), "a case slip is the closest of all")
	assert.Equal(t, "privateSubnets", Nearest("privateSubnet", keys))
	assert.Equal(t, "", Nearest("hostedZone", keys), "nothing close: no guess")
	assert.Equal(t, "ap-southeast-1", Nearest("ap-southeast-9", []string{"ap-southeast-1", "ap-southeast-2", "us-east-1"}), "ties go to the first in order")
	assert.Equal(t, "; did you mean domain?", DidYouMean("domian", []string{"domain", "org"}))
	assert.Equal(t, "", DidYouMean("domain", []string{"domain"}))
	assert.Equal(t, 3, Distance("kitten", "sitting"))
}
