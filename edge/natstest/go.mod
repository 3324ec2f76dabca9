module github.com/spatialprops/spatialprops-infra/edge/natstest

go 1.26.8

require (
	github.com/nats-io/jwt/v2 v2.8.0
	github.com/nats-io/nats-server/v2 v2.11.10
	github.com/nats-io/nats.go v1.55.0
	github.com/nats-io/nkeys v0.4.16
	github.com/spatialprops/spatialprops-infra v0.0.0
	github.com/spatialprops/spatialprops-infra/services/nats-auth v0.0.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/crypto v0.57.0
)

require (
	github.com/antithesishq/antithesis-sdk-go v0.4.3-default-no-op // indirect
	github.com/google/go-tpm v0.9.6 // indirect
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/minio/highwayhash v1.0.3 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace github.com/spatialprops/spatialprops-infra => ../..

replace github.com/spatialprops/spatialprops-infra/services/nats-auth => ../../services/nats-auth
