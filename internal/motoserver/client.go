package motoserver

import (
	"crypto/tls"
	"net/http"
	"time"
)

// insecureClient accepts moto's self-signed certificate; it is used only to
// poll the loopback server this package started.
func insecureClient() *http.Client {
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback emulator only
	}
}
