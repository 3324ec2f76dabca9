module github.com/spatialprops/spatialprops-infra/services/nats-auth

go 1.26.8

require (
	github.com/nats-io/jwt/v2 v2.8.0
	github.com/nats-io/nats.go v1.55.0
	github.com/nats-io/nkeys v0.4.16
	github.com/spatialprops/spatialprops-infra v0.0.0
)

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// The callout's rules (edge.CalloutAnchors) come from this repository's root
// module, the same code the server config is built from.
replace github.com/spatialprops/spatialprops-infra => ../..
