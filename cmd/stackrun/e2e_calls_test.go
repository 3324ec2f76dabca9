package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The deploy's commands are recorded per stack for the IAM calls check; a
// destroy (never CI's) apart from them; an operator's commands not at all.
func TestCallLogPerStackAndCommand(t *testing.T) {
	e := &e2e{work: "/w"}
	dir := filepath.Join("/w", "stacks", "dev-network")
	for _, cmd := range []string{"init", "plan", "apply"} {
		assert.Equal(t, "/w/calls/dev-network.log", e.callLog(dir, []string{cmd, "-input=false"}), cmd)
	}
	assert.Equal(t, "/w/calls/dev-network.destroy.log", e.callLog(dir, []string{"destroy", "-auto-approve"}))
	for _, cmd := range []string{"state", "force-unlock", "version"} {
		assert.Empty(t, e.callLog(dir, []string{cmd}), cmd)
	}
	assert.Empty(t, e.callLog(dir, nil))
}
