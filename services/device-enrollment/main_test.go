package main

import (
	"context"
	"strings"
	"testing"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

// GIVEN DEVICE_CERT_DAYS over 30, or missing settings THEN the service
// refuses to start (exit 2), naming each: it never issues a longer
// certificate than the guide's 30 days.
func TestSettings(t *testing.T) {
	for days, want := range map[string]string{
		"31": `DEVICE_CERT_DAYS=\"31\" must be a whole number from 1 to 30`,
		"":   "DEVICE_CERT_DAYS is required",
	} {
		var logs kittest.Logs
		env := map[string]string{"DEVICE_CERT_DAYS": days}
		code := kit.Program{Name: "device-enrollment", Setup: setup}.Run(context.Background(), func(k string) string { return env[k] }, &logs)
		if code != kit.ExitConfig {
			t.Errorf("DEVICE_CERT_DAYS=%q: exit %d, want %d", days, code, kit.ExitConfig)
		}
		for _, w := range []string{want, "DEVICE_CA_ARN is required", "LEDGER_TABLE is required", "DEVICES_TABLE is required"} {
			if !strings.Contains(logs.String(), w) {
				t.Errorf("DEVICE_CERT_DAYS=%q: the log lacks %q:\n%s", days, w, logs.String())
			}
		}
	}
}
