// Package presign answers a device's request for a CDN URL of a published
// pack. The device reaches it only through the presigner's ALB, which
// completes mutual TLS against the device trust store (refusing unknown,
// expired and CRL-revoked certificates) and forwards the verified leaf in
// X-Amzn-Mtls-Clientcert-Leaf. The presigner then checks, in order: the
// certificate names one device; the ledger knows this exact certificate
// and it is not revoked; the device is active; the path is a published
// pack; and, for a licensed pack, that the device or its cohort holds an
// unexpired entitlement. Only then does it sign a CloudFront canned-policy
// URL with the KMS key (contracts.md, "CDN URL signing"). Each refusal has
// its own code.
package presign

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// LeafHeader carries the client certificate the ALB verified: the PEM,
// URL-encoded (with '+', '=' and '/' left as they are).
const LeafHeader = "X-Amzn-Mtls-Clientcert-Leaf"

// MaxTTL is the longest a signed URL may live (contracts.md).
const MaxTTL = 5 * time.Minute

// DB reads the ledger, devices and entitlements tables.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Signer signs with the CDN signing key (kms:Sign).
type Signer interface {
	Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error)
}

// Service signs CDN URLs.
type Service struct {
	DB                                           DB
	KMS                                          Signer
	LedgerTable, DevicesTable, EntitlementsTable string
	// BaseURL is the CDN origin (CDN_BASE_URL), e.g. https://cdn.spatial.properties.
	BaseURL string
	// KeyID is the KMS signing key (CDN_SIGNING_KEY_ID); KeyPairID the
	// CloudFront public key id of its public half (CDN_KEY_PAIR_ID).
	KeyID, KeyPairID string
	// TTL of a signed URL (at most MaxTTL).
	TTL time.Duration
	Now func() time.Time
	Log *slog.Logger

	results *prometheus.CounterVec
}

// Register adds cdn_presign_requests_total{result} to reg.
func (s *Service) Register(reg prometheus.Registerer) {
	s.results = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdn_presign_requests_total",
		Help: "Presign requests by result: signed, open, or the refusal code."}, []string{"result"})
	for _, r := range []string{"signed", "open", "unknown_device", "revoked", "unlicensed", "not_published"} {
		s.results.WithLabelValues(r)
	}
	reg.MustRegister(s.results)
}

// Answer is a successful presign.
type Answer struct {
	URL string `json:"url"`
	// Expires is when a signed URL stops working (zero for an open pack).
	Expires time.Time `json:"expires,omitzero"`
}

// Refusal is a request refused with a code.
type Refusal struct {
	Status        int
	Code, Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

func refuse(status int, code, format string, args ...any) *Refusal {
	return &Refusal{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Routes adds GET /v1/presign?path=/<access>/<pack>/<version>/<file>.
func Routes(k *kit.Service, s *Service) {
	k.Handle("GET /v1/presign", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.Presign(r.Context(), r.Header.Get(LeafHeader), r.URL.Query().Get("path"))
		var ref *Refusal
		switch {
		case errors.As(err, &ref):
			s.count(ref.Code)
			s.Log.WarnContext(r.Context(), "presign refused", "code", ref.Code, "reason", ref.Message)
			kit.WriteProblem(w, ref.Status, ref.Code, "%s", ref.Message)
		case err != nil:
			s.Log.ErrorContext(r.Context(), "presign failed", "error", err.Error())
			kit.WriteProblem(w, http.StatusBadGateway, "presign_failed", "the URL could not be signed; try again")
		default:
			result := "signed"
			if out.Expires.IsZero() {
				result = "open"
			}
			s.count(result)
			kit.WriteJSON(w, http.StatusOK, out)
		}
	})
}

func (s *Service) count(result string) {
	if s.results != nil {
		s.results.WithLabelValues(result).Inc()
	}
}

// Presign checks the device and the pack and returns the URL.
func (s *Service) Presign(ctx context.Context, leafHeader, path string) (*Answer, error) {
	if leafHeader == "" {
		return nil, refuse(http.StatusUnauthorized, "no_client_certificate", "no verified client certificate: call through the presigner's mutual-TLS endpoint")
	}
	raw, err := url.PathUnescape(leafHeader)
	if err != nil {
		return nil, refuse(http.StatusUnauthorized, "bad_client_certificate", "the client certificate header is not URL-encoded PEM")
	}
	block, _ := pem.Decode([]byte(raw))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, refuse(http.StatusUnauthorized, "bad_client_certificate", "the client certificate header holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, refuse(http.StatusUnauthorized, "bad_client_certificate", "client certificate: %v", err)
	}
	device, err := edge.CertDeviceID(cert)
	if err != nil {
		return nil, refuse(http.StatusForbidden, "unknown_device", "the client certificate names no single device: %v", err)
	}
	now := s.Now()
	serial := edge.SerialHex(cert.SerialNumber)
	led, err := s.get(ctx, s.LedgerTable, map[string]string{edge.LedgerSerial: serial})
	if err != nil {
		return nil, err
	}
	switch {
	case led == nil || str(led[edge.LedgerFingerprint]) != edge.Fingerprint(cert.Raw) || str(led[edge.LedgerDevice]) != device:
		return nil, refuse(http.StatusForbidden, "unknown_device", "certificate %s of device %s is not in the device ledger", serial, device)
	case boolean(led[edge.LedgerRevoked]):
		return nil, refuse(http.StatusForbidden, "revoked", "certificate %s of device %s is revoked", serial, device)
	case now.After(cert.NotAfter) || now.Before(cert.NotBefore):
		return nil, refuse(http.StatusForbidden, "revoked", "certificate %s of device %s is not valid now", serial, device)
	}
	dev, err := s.get(ctx, s.DevicesTable, map[string]string{edge.DeviceKey: device})
	if err != nil {
		return nil, err
	}
	switch {
	case dev == nil:
		return nil, refuse(http.StatusForbidden, "unknown_device", "device %s is not provisioned", device)
	case str(dev[edge.DeviceStatus]) != edge.DeviceActive:
		return nil, refuse(http.StatusForbidden, "revoked", "device %s is %s", device, str(dev[edge.DeviceStatus]))
	}
	access, pack, err := marketplace.ParseCDNPath(path)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "not_published", "%v", err)
	}
	target := strings.TrimRight(s.BaseURL, "/") + marketplace.CDNPath(access, pack)
	if access == marketplace.AccessOpen {
		return &Answer{URL: target}, nil
	}
	cohort := str(dev[edge.DeviceCohort])
	licensed := false
	for _, subject := range []string{marketplace.DeviceSubject(device), marketplace.CohortSubject(cohort)} {
		e, err := s.get(ctx, s.EntitlementsTable, map[string]string{marketplace.EntitlementSubject: subject, marketplace.EntitlementPack: pack.Pack})
		if err != nil {
			return nil, err
		}
		if e != nil && (num(e[marketplace.EntitlementExpiresAt]) == 0 || num(e[marketplace.EntitlementExpiresAt]) > now.Unix()) {
			licensed = true
			break
		}
	}
	if !licensed {
		return nil, refuse(http.StatusForbidden, "unlicensed", "neither device %s nor cohort %s holds a licence for pack %s", device, cohort, pack.Pack)
	}
	expires := now.Add(min(s.TTL, MaxTTL)).Truncate(time.Second)
	signed, err := s.sign(ctx, target, expires)
	if err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "presigned", "device", device, "serial", serial, "pack", pack.Pack, "version", pack.Version, "expires", expires)
	return &Answer{URL: signed, Expires: expires}, nil
}

// CannedPolicy is the policy CloudFront reconstructs for a canned-policy
// signed URL: exactly this JSON, no white space.
func CannedPolicy(resource string, expires time.Time) []byte {
	return []byte(`{"Statement":[{"Resource":"` + resource + `","Condition":{"DateLessThan":{"AWS:EpochTime":` + strconv.FormatInt(expires.Unix(), 10) + `}}}]}`)
}

// cloudFrontBase64 is base64 with CloudFront's URL-safe substitutions.
var cloudFrontBase64 = strings.NewReplacer("+", "-", "=", "_", "/", "~")

func (s *Service) sign(ctx context.Context, target string, expires time.Time) (string, error) {
	out, err := s.KMS.Sign(ctx, &kms.SignInput{KeyId: aws.String(s.KeyID), Message: CannedPolicy(target, expires),
		MessageType: kmstypes.MessageTypeRaw, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		return "", fmt.Errorf("kms sign: %w", err)
	}
	sig := cloudFrontBase64.Replace(base64.StdEncoding.EncodeToString(out.Signature))
	return target + "?Expires=" + strconv.FormatInt(expires.Unix(), 10) + "&Signature=" + sig + "&Key-Pair-Id=" + url.QueryEscape(s.KeyPairID), nil
}

func (s *Service) get(ctx context.Context, table string, key map[string]string) (map[string]ddbtypes.AttributeValue, error) {
	k := map[string]ddbtypes.AttributeValue{}
	for n, v := range key {
		k[n] = &ddbtypes.AttributeValueMemberS{Value: v}
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	return out.Item, nil
}

func str(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func boolean(v ddbtypes.AttributeValue) bool {
	b, ok := v.(*ddbtypes.AttributeValueMemberBOOL)
	return ok && b.Value
}

func num(v ddbtypes.AttributeValue) int64 {
	if n, ok := v.(*ddbtypes.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(n.Value, 10, 64)
		return i
	}
	return 0
}
