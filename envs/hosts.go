package envs

// ServiceHost is the public host name of a service: "<svc>.<domain>" in
// prod and "<svc>.<env>.<domain>" elsewhere, so two environments never
// claim the same name in the shared zone (the rule cdn.domain follows).
func (c *Config) ServiceHost(svc string) string {
	if c.IsProd() {
		return svc + "." + c.Domain
	}
	return svc + "." + c.Env + "." + c.Domain
}
