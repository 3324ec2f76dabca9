package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

// GIVEN the metrics port is taken THEN billing-stub exits 1 naming it
// (issue 24: it logged and exited 0, so a consumer ran unscraped).
func TestExitsNonZeroWhenTheMetricsPortIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	_, api, _ := net.SplitHostPort(free.Addr().String())
	free.Close()
	env := map[string]string{"QUEUE_URL": "https://sqs.ap-southeast-2.amazonaws.com/111122223333/q", "AWS_REGION": "ap-southeast-2", "PORT": api, "OPS_PORT": port}
	var logs kittest.Logs
	code := kit.Program{Name: "billing-stub", Setup: setup}.Run(context.Background(), func(k string) string { return env[k] }, &logs)
	if code != kit.ExitFailed || !strings.Contains(logs.String(), "OPS_PORT "+port) {
		t.Fatalf("exit %d, logs:\n%s", code, logs.String())
	}
	code = kit.Program{Name: "billing-stub", Setup: setup}.Run(context.Background(), func(string) string { return "" }, &logs)
	if code != kit.ExitConfig || !strings.Contains(logs.String(), "QUEUE_URL is required") {
		t.Fatalf("missing QUEUE_URL: exit %d", code)
	}
}
