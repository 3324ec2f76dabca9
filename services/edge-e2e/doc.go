// Package e2e is the end-to-end edge scenario: every edge and marketplace
// walking skeleton running on loopback against one moto_server world
// (internal/edgeworld) and one embedded NATS server, exercised in the
// order a device and the marketplace meet them. It holds only tests.
package e2e
