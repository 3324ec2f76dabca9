package motoserver

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// GIVEN no shared server WHEN a test asks for one THEN it gets a live moto
// that answers S3's ListBuckets, the call every AWS test starts from.
func TestEndpointAnswersAWSCalls(t *testing.T) {
	url := Endpoint(t)
	req, err := http.NewRequest(http.MethodGet, url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/"+Region+"/s3/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := insecureClient().Do(req)
	if err != nil {
		t.Fatalf("moto did not answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "ListAllMyBucketsResult") {
		t.Fatalf("expected an S3 ListBuckets answer, got %d: %s", resp.StatusCode, body)
	}
	if Endpoint(t) != url {
		t.Fatal("a second call must reuse the same server, not start another")
	}
}

// UniqueName must never collide between tests sharing one server.
func TestUniqueNameDiffers(t *testing.T) {
	a, b := UniqueName("spatial-test"), UniqueName("spatial-test")
	if a == b || !strings.HasPrefix(a, "spatial-test-") {
		t.Fatalf("names %q and %q must differ and keep the prefix", a, b)
	}
}
