// Package tests holds the app-level tests: golden snapshots of every
// synthesized stack, Rego policy checks over them, wiring checks across
// stacks, and tests that run the Makefile's real targets. It has no code of
// its own; this file lets `make build` compile the package list as a whole.
package tests
