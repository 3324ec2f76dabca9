// Package enroll issues and renews device certificates through ACM
// Private CA.
//
// Bootstrap model: a one-time enrollment token. Provisioning (NewToken)
// writes the device's record in the devices table with the SHA-256 of a
// random token and its expiry, and hands the token to the device once (at
// manufacture or install). The device proves it holds the token, sends a
// CSR for its own identity only, and gets a certificate of
// deviceCertDays (<= 30) from the device CA with the end-entity
// client-auth template; the token is deleted in the same conditional write
// that records the certificate, so it works once. After that the device
// renews with its current certificate: it signs the new CSR's digest with
// the current key (proof of possession), and renewal works only for the
// device's newest, unrevoked, unexpired certificate. Every issued serial is
// written to the device ledger first, so a cohort revocation (spctl edge
// rollback) finds it.
package enroll

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// EndEntityClientAuthTemplate is the only template the enrollment role may
// issue with (stacks.EndEntityClientAuthTemplate): a TLS client
// certificate, never a CA or a server certificate.
const EndEntityClientAuthTemplate = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"

// PCA is the part of ACM Private CA the service calls.
type PCA interface {
	IssueCertificate(context.Context, *acmpca.IssueCertificateInput, ...func(*acmpca.Options)) (*acmpca.IssueCertificateOutput, error)
	GetCertificate(context.Context, *acmpca.GetCertificateInput, ...func(*acmpca.Options)) (*acmpca.GetCertificateOutput, error)
}

// DB is the part of DynamoDB the service calls.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Service issues and renews device certificates.
type Service struct {
	PCA PCA
	DB  DB
	// CAArn is the device CA (DEVICE_CA_ARN); SigningAlgorithm matches its
	// key (SHA256WITHECDSA for the EC_prime256v1 CA the identity stack makes).
	CAArn            string
	SigningAlgorithm pcatypes.SigningAlgorithm
	// Days is the certificate validity (DEVICE_CERT_DAYS, 1..30).
	Days                      int
	LedgerTable, DevicesTable string
	Now                       func() time.Time
	Log                       *slog.Logger
	// IssueWait bounds the wait for ACM PCA to finish issuing (default 30 s).
	IssueWait time.Duration

	issued   *prometheus.CounterVec
	refused  *prometheus.CounterVec
	failures prometheus.Counter
}

// Register adds the service's counters to reg: certificates issued by kind
// (enroll, renew), requests refused by reason, and issue failures.
func (s *Service) Register(reg prometheus.Registerer) {
	s.issued = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "device_certificates_issued_total",
		Help: "Device certificates issued, by kind (enroll, renew)."}, []string{"kind"})
	s.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "device_enrollment_refusals_total",
		Help: "Enrollment and renewal requests refused, by reason."}, []string{"reason"})
	s.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "device_certificate_issue_failures_total",
		Help: "Requests that passed every check but could not get a certificate from the CA (the DeviceEnrollmentIssueFailures alert)."})
	for _, k := range []string{"enroll", "renew"} {
		s.issued.WithLabelValues(k)
	}
	reg.MustRegister(s.issued, s.refused, s.failures)
}

// Refusal is a request the service will not serve: an HTTP status, a
// stable code and a sentence.
type Refusal struct {
	Status  int
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

func (s *Service) refuse(status int, code, format string, args ...any) *Refusal {
	if s.refused != nil {
		s.refused.WithLabelValues(code).Inc()
	}
	return &Refusal{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// EnrollRequest is a device's first request.
type EnrollRequest struct {
	Device string `json:"device"`
	Token  string `json:"token"`
	CSR    string `json:"csr"`
}

// RenewRequest renews the device's current certificate. Proof is the
// base64 signature, with the current certificate's key, over the SHA-256
// of the new CSR's DER (ECDSA ASN.1, or RSA PKCS #1 v1.5).
type RenewRequest struct {
	Certificate string `json:"certificate"`
	CSR         string `json:"csr"`
	Proof       string `json:"proof"`
}

// Issued is what the device gets back.
type Issued struct {
	Certificate string    `json:"certificate"`
	Chain       string    `json:"chain"`
	Serial      string    `json:"serial"`
	NotAfter    time.Time `json:"notAfter"`
	// RenewAt is two thirds of the way through the certificate's life
	// (edge.RenewAt): renew then, with a third left to ride out being offline.
	RenewAt time.Time `json:"renewAt"`
}

type device struct {
	cohort, status, tokenHash, currentSerial string
	tokenExpires                             int64
}

func (s *Service) getDevice(ctx context.Context, id string) (*device, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.DevicesTable), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{edge.DeviceKey: str(id)}})
	if err != nil {
		return nil, fmt.Errorf("devices table: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	d := &device{cohort: sval(out.Item[edge.DeviceCohort]), status: sval(out.Item[edge.DeviceStatus]),
		tokenHash: sval(out.Item[edge.DeviceTokenHash]), currentSerial: sval(out.Item[edge.DeviceCurrentSerial])}
	if n, ok := out.Item[edge.DeviceTokenExpires].(*ddbtypes.AttributeValueMemberN); ok {
		d.tokenExpires, _ = strconv.ParseInt(n.Value, 10, 64)
	}
	return d, nil
}

// TokenHash is how the devices table keeps a token: SHA-256, lowercase hex.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Enroll serves a device's first certificate against its one-time token.
func (s *Service) Enroll(ctx context.Context, req EnrollRequest) (*Issued, error) {
	if !edge.ValidDeviceID(req.Device) {
		return nil, s.refuse(http.StatusBadRequest, "invalid_device", "device %q must be 1-64 letters, digits, '.', '_' or '-'", req.Device)
	}
	d, err := s.getDevice(ctx, req.Device)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	switch {
	case d == nil:
		return nil, s.refuse(http.StatusForbidden, "unknown_device", "device %s is not provisioned", req.Device)
	case d.status != edge.DeviceActive:
		return nil, s.refuse(http.StatusForbidden, "device_revoked", "device %s is %s", req.Device, d.status)
	case d.tokenHash == "":
		return nil, s.refuse(http.StatusForbidden, "no_token", "device %s has no enrollment token: it is enrolled already (renew with its certificate) or needs a new token", req.Device)
	case subtle.ConstantTimeCompare([]byte(TokenHash(req.Token)), []byte(d.tokenHash)) != 1:
		return nil, s.refuse(http.StatusForbidden, "bad_token", "the enrollment token of device %s does not match", req.Device)
	case now.Unix() > d.tokenExpires:
		return nil, s.refuse(http.StatusForbidden, "token_expired", "the enrollment token of device %s expired at %s", req.Device, time.Unix(d.tokenExpires, 0).UTC().Format(time.RFC3339))
	}
	csr, err := CheckCSR(req.CSR, req.Device, d.cohort)
	if err != nil {
		return nil, s.refuse(http.StatusBadRequest, "bad_csr", "%v", err)
	}
	out, err := s.issue(ctx, req.Device, d.cohort, csr)
	if err != nil {
		return nil, err
	}
	// The token goes in the same conditional write that records the
	// certificate: of two concurrent enrollments with one token, one wins.
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.DevicesTable), Key: map[string]ddbtypes.AttributeValue{edge.DeviceKey: str(req.Device)},
		UpdateExpression:         aws.String("SET #cur = :serial REMOVE #th, #te"),
		ConditionExpression:      aws.String("#th = :hash AND #st = :active"),
		ExpressionAttributeNames: map[string]string{"#cur": edge.DeviceCurrentSerial, "#th": edge.DeviceTokenHash, "#te": edge.DeviceTokenExpires, "#st": edge.DeviceStatus},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":serial": str(out.Serial), ":hash": str(d.tokenHash), ":active": str(edge.DeviceActive)},
	})
	if err != nil {
		var ccf *ddbtypes.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return nil, s.refuse(http.StatusConflict, "token_used", "the enrollment token of device %s was used by a concurrent request", req.Device)
		}
		return nil, fmt.Errorf("devices table: %w", err)
	}
	s.issued.WithLabelValues("enroll").Inc()
	s.Log.InfoContext(ctx, "device enrolled", "device", req.Device, "cohort", d.cohort, "serial", out.Serial, "notAfter", out.NotAfter)
	return out, nil
}

// Renew serves a new certificate to a device holding its current one.
func (s *Service) Renew(ctx context.Context, req RenewRequest) (*Issued, error) {
	block, _ := pem.Decode([]byte(req.Certificate))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, s.refuse(http.StatusBadRequest, "bad_certificate", "certificate must be a PEM CERTIFICATE")
	}
	cur, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, s.refuse(http.StatusBadRequest, "bad_certificate", "certificate: %v", err)
	}
	id, err := edge.CertDeviceID(cur)
	if err != nil {
		return nil, s.refuse(http.StatusForbidden, "unknown_certificate", "%v", err)
	}
	serial := edge.SerialHex(cur.SerialNumber)
	led, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.LedgerTable), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{edge.LedgerSerial: str(serial)}})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	now := s.Now()
	switch {
	case led.Item == nil || sval(led.Item[edge.LedgerFingerprint]) != edge.Fingerprint(cur.Raw) || sval(led.Item[edge.LedgerDevice]) != id:
		return nil, s.refuse(http.StatusForbidden, "unknown_certificate", "certificate %s was not issued by this service to device %s", serial, id)
	case bval(led.Item[edge.LedgerRevoked]):
		return nil, s.refuse(http.StatusForbidden, "certificate_revoked", "certificate %s is revoked", serial)
	case now.After(cur.NotAfter):
		return nil, s.refuse(http.StatusForbidden, "certificate_expired", "certificate %s expired at %s: enroll again with a new token", serial, cur.NotAfter.UTC().Format(time.RFC3339))
	}
	d, err := s.getDevice(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case d == nil || d.status != edge.DeviceActive:
		return nil, s.refuse(http.StatusForbidden, "device_revoked", "device %s is not active", id)
	case d.currentSerial != serial:
		return nil, s.refuse(http.StatusConflict, "superseded", "certificate %s is not device %s's newest; renew with the newest", serial, id)
	}
	csr, err := CheckCSR(req.CSR, id, d.cohort)
	if err != nil {
		return nil, s.refuse(http.StatusBadRequest, "bad_csr", "%v", err)
	}
	if err := verifyProof(cur, csr.Raw, req.Proof); err != nil {
		return nil, s.refuse(http.StatusForbidden, "bad_proof", "%v", err)
	}
	out, err := s.issue(ctx, id, d.cohort, csr)
	if err != nil {
		return nil, err
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.DevicesTable), Key: map[string]ddbtypes.AttributeValue{edge.DeviceKey: str(id)},
		UpdateExpression:         aws.String("SET #cur = :new"),
		ConditionExpression:      aws.String("#cur = :old AND #st = :active"),
		ExpressionAttributeNames: map[string]string{"#cur": edge.DeviceCurrentSerial, "#st": edge.DeviceStatus},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":new": str(out.Serial), ":old": str(serial), ":active": str(edge.DeviceActive)},
	})
	if err != nil {
		var ccf *ddbtypes.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return nil, s.refuse(http.StatusConflict, "superseded", "device %s renewed concurrently", id)
		}
		return nil, fmt.Errorf("devices table: %w", err)
	}
	s.issued.WithLabelValues("renew").Inc()
	s.Log.InfoContext(ctx, "device renewed", "device", id, "previous", serial, "serial", out.Serial, "notAfter", out.NotAfter)
	return out, nil
}

// ProofDigest is what a renewing device signs: SHA-256 of the new CSR's DER.
func ProofDigest(csrDER []byte) []byte {
	d := sha256.Sum256(csrDER)
	return d[:]
}

func verifyProof(cur *x509.Certificate, csrDER []byte, proof string) error {
	sig, err := base64.StdEncoding.DecodeString(proof)
	if err != nil || len(sig) == 0 {
		return errors.New("proof must be the base64 signature over sha256(CSR DER) with the current certificate's key")
	}
	digest := ProofDigest(csrDER)
	switch k := cur.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, digest, sig) {
			return nil
		}
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil {
			return nil
		}
	}
	return errors.New("the proof does not verify with the current certificate's key")
}

// issue asks the CA for the certificate, waits for it, checks that it
// names only the device, and writes it to the ledger before anything
// else sees it.
func (s *Service) issue(ctx context.Context, id, cohort string, csr *x509.CertificateRequest) (*Issued, error) {
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw})
	token := hex.EncodeToString(ProofDigest(csr.Raw))[:36]
	req, err := s.PCA.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: aws.String(s.CAArn), Csr: csrPEM, SigningAlgorithm: s.SigningAlgorithm,
		TemplateArn: aws.String(EndEntityClientAuthTemplate),
		Validity:    &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeDays, Value: aws.Int64(int64(s.Days))},
		// A retry with the same CSR within ACM's idempotency window gets
		// the same certificate, not a second one.
		IdempotencyToken: aws.String(token),
	})
	if err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	got, err := s.fetch(ctx, aws.ToString(req.CertificateArn))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode([]byte(aws.ToString(got.Certificate)))
	if block == nil {
		return nil, errors.New("issue: the CA returned no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	if got, err := edge.CertDeviceID(cert); err != nil || got != id {
		return nil, fmt.Errorf("issue: the CA returned a certificate for %q (%v); not handed out", got, err)
	}
	serial := edge.SerialHex(cert.SerialNumber)
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.LedgerTable),
		Item: map[string]ddbtypes.AttributeValue{
			edge.LedgerSerial: str(serial), edge.LedgerDevice: str(id), edge.LedgerCohort: str(cohort),
			edge.LedgerNotAfter: str(cert.NotAfter.UTC().Format(time.RFC3339)), edge.LedgerRevoked: &ddbtypes.AttributeValueMemberBOOL{Value: false},
			edge.LedgerFingerprint: str(edge.Fingerprint(cert.Raw)), edge.LedgerIssuedAt: str(s.Now().UTC().Format(time.RFC3339)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(#s) OR #f = :f"),
		ExpressionAttributeNames:  map[string]string{"#s": edge.LedgerSerial, "#f": edge.LedgerFingerprint},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":f": str(edge.Fingerprint(cert.Raw))},
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &Issued{Certificate: aws.ToString(got.Certificate), Chain: aws.ToString(got.CertificateChain), Serial: serial,
		NotAfter: cert.NotAfter.UTC(), RenewAt: edge.RenewAt(cert).UTC()}, nil
}

// fetch waits for ACM PCA to finish issuing (GetCertificate answers
// RequestInProgressException until then), up to IssueWait.
func (s *Service) fetch(ctx context.Context, arn string) (*acmpca.GetCertificateOutput, error) {
	wait := s.IssueWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for delay := 200 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		out, err := s.PCA.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: aws.String(s.CAArn), CertificateArn: aws.String(arn)})
		var inProgress *pcatypes.RequestInProgressException
		if err == nil || !errors.As(err, &inProgress) {
			if err != nil {
				return nil, fmt.Errorf("get certificate: %w", err)
			}
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("get certificate %s: not issued within %s", arn, wait)
		case <-time.After(delay):
		}
	}
}

// NewToken provisions device (of cohort) for enrollment: it writes the
// device's record with the hash of a new random token valid for ttl, and
// returns the token, which exists nowhere else. An active device gets a
// fresh token (e.g. after losing its key); a revoked one does not.
func NewToken(ctx context.Context, db DB, table, device, cohort string, ttl time.Duration, now time.Time) (string, error) {
	if !edge.ValidDeviceID(device) || !edge.ValidDeviceID(cohort) {
		return "", fmt.Errorf("device %q and cohort %q must be 1-64 letters, digits, '.', '_' or '-'", device, cohort)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{edge.DeviceKey: str(device)},
		UpdateExpression:         aws.String("SET #c = :c, #st = :active, #th = :h, #te = :e"),
		ConditionExpression:      aws.String("attribute_not_exists(#st) OR (#st = :active AND #c = :c)"),
		ExpressionAttributeNames: map[string]string{"#c": edge.DeviceCohort, "#st": edge.DeviceStatus, "#th": edge.DeviceTokenHash, "#te": edge.DeviceTokenExpires},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":c": str(cohort), ":active": str(edge.DeviceActive), ":h": str(TokenHash(token)),
			":e": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(ttl).Unix(), 10)}},
	})
	if err != nil {
		var ccf *ddbtypes.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return "", fmt.Errorf("device %s is revoked or belongs to another cohort: no token issued", device)
		}
		return "", err
	}
	return token, nil
}

func str(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

func sval(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func bval(v ddbtypes.AttributeValue) bool {
	b, ok := v.(*ddbtypes.AttributeValueMemberBOOL)
	return ok && b.Value
}
