package envs

import "testing"

func TestServiceHostKeepsEnvironmentsApart(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"prod", "market.spatial.properties"},
		{"staging", "market.staging.spatial.properties"},
		{"dev", "market.dev.spatial.properties"},
	} {
		c := &Config{Env: tc.env, Domain: "spatial.properties"}
		if got := c.ServiceHost("market"); got != tc.want {
			t.Errorf("%s: ServiceHost(market) = %q, want %q", tc.env, got, tc.want)
		}
	}
}
