package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spatialprops/spatialprops-infra/internal/awscalls"
	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// checkCalls evaluates every AWS call the CI-deployed stacks made
// (calls/<stack>.log, recorded through terraform.Runner.DebugLog) for the
// env's infra deploy role, with its real policies from the synth (not the
// emulator's adapted copy): each IAM action a call needs must be allowed
// on at least one resource of its stack it applies to (internal/awscalls).
// The report is written to calls/report.txt.
func (e *e2e) checkCalls() (string, error) {
	env, err := iameval.LoadEnvDir(e.path("synth"), e.env)
	if err != nil {
		return "", err
	}
	m, err := iameval.NewModel(env)
	if err != nil {
		return "", fmt.Errorf("IAM model of %s: %w", e.env, err)
	}
	root, err := iameval.RepoRoot()
	if err != nil {
		return "", err
	}
	cat, err := awscalls.NewCatalog(root)
	if err != nil {
		return "", err
	}
	role, err := awscalls.DeployRole(m)
	if err != nil {
		return "", err
	}
	calls, requests, err := awscalls.ParseDir(e.path("calls"), awscalls.CIStack)
	if err != nil {
		return "", err
	}
	if len(calls) == 0 {
		return "", errors.New("no AWS call of a CI-deployed stack was recorded (calls/*.log)")
	}
	rep, err := awscalls.Check(m, cat, role, calls, requests)
	if err != nil {
		return "", err
	}
	if werr := os.WriteFile(e.path(filepath.Join("calls", "report.txt")), []byte(rep.String()+"\n"), 0o644); werr != nil {
		return "", werr
	}
	if !rep.OK() {
		return "", errors.New(rep.String())
	}
	return rep.String(), nil
}
