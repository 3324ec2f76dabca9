package edgeworld

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// GIVEN a world THEN every resource exists under the stacks' names, and
// the device CA is active with a certificate of its own key.
func TestWorldExists(t *testing.T) {
	w := New(t, Options{})
	ctx := context.Background()
	db := dynamodb.NewFromConfig(w.AWS)
	for _, table := range []string{w.DevicesTable, w.LedgerTable, w.EntitlementsTable, w.BeaconsTable} {
		if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("%s: %v", table, err)
		}
	}
	if w.LedgerTable != w.Names.Prefix()+"-device-ledger" || w.DevicesTable != w.Names.Prefix()+"-devices" {
		t.Errorf("names: %s %s", w.LedgerTable, w.DevicesTable)
	}
	pca := acmpca.NewFromConfig(w.AWS)
	ca, err := pca.GetCertificateAuthorityCertificate(ctx, &acmpca.GetCertificateAuthorityCertificateInput{CertificateAuthorityArn: aws.String(w.DeviceCA)})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(aws.ToString(ca.Certificate)))
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("the CA certificate must be self-signed with the CA's key: %v", err)
	}
}
