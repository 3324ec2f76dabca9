package envs

import (
	"net/url"
	"strings"
)

// AdminOIDC is the organisation's identity provider the beacon admin UI's
// ALB signs people in with (ALB authenticate-oidc): no request reaches the
// UI without a login. The client id and secret are not here: an operator
// stores them in Secrets Manager as <org>/<env>/beacons-admin-oidc (JSON
// {"clientID": ..., "clientSecret": ...}), and External Secrets copies them
// through a store that can read that one secret only.
type AdminOIDC struct {
	Issuer                string `yaml:"issuer"`
	AuthorizationEndpoint string `yaml:"authorizationEndpoint"`
	TokenEndpoint         string `yaml:"tokenEndpoint"`
	UserInfoEndpoint      string `yaml:"userInfoEndpoint"`
}

func validateAdminOIDC(p *problems, c *Config) {
	if !c.Edge.Enabled {
		return
	}
	o := c.Edge.AdminOIDC
	for field, v := range map[string]string{
		"issuer": o.Issuer, "authorizationEndpoint": o.AuthorizationEndpoint,
		"tokenEndpoint": o.TokenEndpoint, "userInfoEndpoint": o.UserInfoEndpoint,
	} {
		u, err := url.Parse(v)
		if v == "" || err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(v, " \"") {
			p.add("edge.adminOidc."+field, "%q must be the https:// URL your identity provider publishes (its /.well-known/openid-configuration lists all four); the beacon admin UI's ALB signs people in through it", v)
		}
	}
}
