// Package testenv starts the emulators the job's tests run against.
package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// MotoEndpoint returns the moto_server `make test` shares (MOTO_ENDPOINT),
// or starts a private one on a free loopback port for a standalone run.
// Without moto_server the test is skipped, unless REQUIRE_E2E or CI is set,
// where a missing emulator is a failure.
func MotoEndpoint(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("MOTO_ENDPOINT"); u != "" {
		return u
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("REQUIRE_E2E") != "" || os.Getenv("CI") != "" {
			t.Fatal("moto_server is not on PATH and REQUIRE_E2E or CI is set")
		}
		t.Skip("moto_server not on PATH (pip install 'moto[server]'); set MOTO_ENDPOINT or install it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
	}
	t.Fatal("moto_server did not start")
	return ""
}
