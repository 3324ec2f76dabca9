package edge

// URI SANs the NATS server maps client certificates to users with
// (verify_and_map). A device certificate carries AgentURISAN, so every
// agent maps to one NATS user whatever its device id; a service's
// certificate carries NATSUserURISANPrefix + its user name.
const (
	AgentURISAN          = "urn:spatial-properties:edge-agent"
	NATSUserURISANPrefix = "urn:spatial-properties:nats-user:"
)
