package emulator

import (
	_ "embed"
	"os"
	"path/filepath"
)

// motoPITR makes moto_server's DynamoDB point-in-time recovery restore the
// items of the time asked for (moto copies today's items): see the file.
//
//go:embed moto_pitr.py
var motoPITR []byte

// ServerPatches writes the emulator's fidelity patches into dir and
// returns the environment that makes moto_server's Python load them
// (sitecustomize on PYTHONPATH). Only `make e2e` uses them: its table
// restores must show that the data of the past came back.
func ServerPatches(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "sitecustomize.py"), motoPITR, 0o644); err != nil {
		return nil, err
	}
	return []string{"PYTHONPATH=" + dir}, nil
}
