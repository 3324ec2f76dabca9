package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
	"github.com/spatialprops/spatialprops-infra/services/pack-service/catalog"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// GIVEN pack-service running as in its pod WHEN SIGTERM arrives THEN
// /readyz answers 503 at once while the API keeps answering through the
// drain delay, and the process then exits 0. (Issue 24: it closed its
// listener the instant it went unready, so /readyz never answered 503 and
// half of a request burst was refused.)
func TestSIGTERMFailsReadinessAndKeepsServingThroughTheDrain(t *testing.T) {
	port, ops := freePort(t), freePort(t)
	env := map[string]string{
		"PACKS_BUCKET": "spatial-packs-test", "PROVENANCE_KEY_ID": "alias/test-provenance", "AWS_REGION": motoserver.Region,
		"PORT": port, "OPS_PORT": ops, "DRAIN_DELAY": "1s",
	}
	ctx, sigterm := context.WithCancel(context.Background())
	code := make(chan int, 1)
	var logs kittest.Logs
	go func() {
		code <- kit.Program{Name: "pack-service", Setup: setup}.Run(ctx, func(k string) string { return env[k] }, &logs)
	}()
	api := "http://127.0.0.1:" + port
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := kittest.Get(api + "/v1/info"); c == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pack-service did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	sigterm()
	time.Sleep(100 * time.Millisecond)
	if c, _ := kittest.Get(api + "/readyz"); c != http.StatusServiceUnavailable {
		t.Fatalf("/readyz after SIGTERM = %d, want 503 so the Service and the ALB stop routing here", c)
	}
	for i := 0; i < 20; i++ {
		if c, body := kittest.Get(api + "/v1/info"); c != 200 {
			t.Fatalf("request %d during the drain: %d %s; want it served", i, c, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case c := <-code:
		if c != kit.ExitOK {
			t.Fatalf("exit %d\n%s", c, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pack-service did not stop after the drain")
	}
}

// GIVEN a pack the gate published (attestation signed with the KMS key)
// and a document signed by someone else THEN /v1/packs lists exactly the
// verified one, with its CDN path.
func TestPacksListsOnlyVerifiedPublishedPacks(t *testing.T) {
	ctx := context.Background()
	w := edgeworld.New(t, edgeworld.Options{})
	s3c, k := w.S3(), kms.NewFromConfig(w.AWS)
	other, err := k.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(keyID string, p marketplace.Pack) {
		st := marketplace.Statement{PackDigest: marketplace.PackDigest([]byte(p.Pack)), LicenseID: "CC-BY-4.0", Publisher: "acme", IssuedAt: time.Now().Truncate(time.Second)}
		sig, err := k.Sign(ctx, &kms.SignInput{KeyId: aws.String(keyID), Message: st.Canonical(), MessageType: kmstypes.MessageTypeRaw, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := json.Marshal(marketplace.NewDocument(marketplace.AccessOpen, p, marketplace.Attestation{Statement: st, Signature: sig.Signature}, keyID))
		for key, body := range map[string][]byte{marketplace.PublishedKey(marketplace.AccessOpen, p): []byte(p.Pack), marketplace.AttestationKey(marketplace.AccessOpen, p): doc} {
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(w.PacksBucket), Key: aws.String(key), Body: strings.NewReader(string(body))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(w.ProvenanceKey, marketplace.Pack{Pack: "perth-cbd", Version: "1", File: "tiles.pmtiles"})
	publish(*other.KeyMetadata.Arn, marketplace.Pack{Pack: "forged", Version: "1", File: "tiles.pmtiles"})

	svc := kittest.New("pack-service", 0)
	Routes(svc.Service, &catalog.Catalog{Store: awskit.Bucket{S3: s3c, Name: w.PacksBucket}, KMS: k, KeyID: w.Names.ProvenanceKeyAlias(), Log: svc.Log})
	r := kittest.Start(t, svc.Service)
	c, body := kittest.Get(r.API + "/v1/packs")
	if c != 200 {
		t.Fatalf("/v1/packs = %d %s", c, body)
	}
	var got struct{ Packs []marketplace.Listing }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Packs) != 1 || got.Packs[0].Pack != "perth-cbd" || got.Packs[0].Path != "/open/perth-cbd/1/tiles.pmtiles" {
		t.Fatalf("want only perth-cbd listed, got %+v\n%s", got.Packs, svc.Logs.String())
	}
	if !strings.Contains(svc.Logs.String(), "forged/1/attestation.json") {
		t.Fatalf("the forged document must be logged as left out:\n%s", svc.Logs.String())
	}
}
