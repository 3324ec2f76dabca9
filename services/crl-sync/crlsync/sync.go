// Package crlsync keeps an ALB trust store's revocation list equal to the
// private CA's current CRL.
//
// ACM Private CA publishes its CRL as DER at crl/<ca-id>.crl in the PKI
// bucket; an ALB trust store takes a revocation list only as PEM, reads it
// once when it is added, and never follows the object afterwards. So each
// run reads the CA's CRL, verifies it against the CA certificate, and when
// its CRL number is new, writes it as PEM under trust/crl/, adds it to the
// trust store and only then removes the older lists: there is never a
// moment without one.
//
// The trust store does not say which object a list came from, so the job
// records it (StateKey), and it never adds a list it could not find again:
// before each add it records the intent (the CRL number and the ids the
// trust store holds at that moment), and refuses to add when that record
// cannot be written. A run that stops anywhere after the intent (the add's
// answer lost, the old lists not removed, the final record not written)
// leaves a list whose id is not among those recorded; the next run
// recognises it as the one it added, adds nothing and finishes the removal.
// So the trust store holds at most two lists of this job, whatever fails
// and however often, never the ALB's limit of 30.
package crlsync

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object keys in the PKI bucket.
const (
	// CRLPrefix is where ACM PCA writes its CRL: crl/<ca-id>.crl (DER).
	CRLPrefix = "crl/"
	// CABundleKey is the CA certificate the trust store is built from.
	CABundleKey = "trust/ca-bundle.pem"
	// PEMPrefix is where the job writes each CRL as PEM:
	// trust/crl/<crlNumber>.pem (decimal CRL number).
	PEMPrefix = "trust/crl/"
	// StateKey records which trust store revocation holds which CRL number.
	// DescribeTrustStoreRevocations returns ids and counts only, not the
	// object a list came from, so the job keeps that link itself.
	StateKey = PEMPrefix + "current.json"
)

// S3 is the part of the S3 API the job uses.
type S3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// ELB is the part of the ELBv2 API the job uses. The real client satisfies
// it; tests use an in-memory fake because moto has no trust stores.
type ELB interface {
	DescribeTrustStoreRevocations(ctx context.Context, in *elbv2.DescribeTrustStoreRevocationsInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTrustStoreRevocationsOutput, error)
	AddTrustStoreRevocations(ctx context.Context, in *elbv2.AddTrustStoreRevocationsInput, opts ...func(*elbv2.Options)) (*elbv2.AddTrustStoreRevocationsOutput, error)
	RemoveTrustStoreRevocations(ctx context.Context, in *elbv2.RemoveTrustStoreRevocationsInput, opts ...func(*elbv2.Options)) (*elbv2.RemoveTrustStoreRevocationsOutput, error)
}

// State is the content of StateKey.
type State struct {
	// Source is the CA's CRL key the list came from: CRL numbers are per CA,
	// so they are compared only between CRLs of the same CA.
	Source       string `json:"source"`
	CRLNumber    string `json:"crlNumber"`
	RevocationID int64  `json:"revocationId"`
	Key          string `json:"key"`
	VersionID    string `json:"versionId,omitempty"`
	// Pending is true from just before a list is added until its
	// revocation id is recorded; Before then holds the ids the trust store
	// had when the add started. An id found later that is not in Before is
	// the list that add made, holding CRLNumber.
	Pending bool    `json:"pending,omitempty"`
	Before  []int64 `json:"before,omitempty"`
}

// Syncer is one run's dependencies and settings.
type Syncer struct {
	S3            S3
	ELB           ELB
	Bucket        string
	CAArn         string
	TrustStoreArn string
	// KMSKey encrypts the PEM object (SSE-KMS). Empty: the bucket's default
	// encryption applies, which for the PKI bucket is the PKI key.
	KMSKey string
	DryRun bool
	Log    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CallTimeout bounds each AWS call (the SDK's retries included), so a
	// call that never answers fails the run long before its own timeout;
	// 0 means DefaultCallTimeout.
	CallTimeout time.Duration
}

// DefaultCallTimeout bounds each AWS call: ample for the API calls and for
// reading a CRL of many thousands of entries from the bucket.
const DefaultCallTimeout = 20 * time.Second

// Result is what a run found and did.
type Result struct {
	CRLNumber      string
	RevokedSerials int
	// Changed is false when the trust store already had this CRL.
	Changed   bool
	AddedID   int64
	RemovedID []int64
}

// ErrRefused marks a CRL the job will not attach: a bad signature, past its
// NextUpdate, or older than the one attached. Nothing was changed.
var ErrRefused = errors.New("CRL refused")

// CAID is the CA's id, the last path element of its ARN
// (arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>).
func CAID(caArn string) (string, error) {
	i := strings.LastIndex(caArn, ":certificate-authority/")
	if !strings.HasPrefix(caArn, "arn:") || i < 0 || caArn[i+len(":certificate-authority/"):] == "" {
		return "", fmt.Errorf("CA_ARN %q is not an ACM PCA ARN like arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>", caArn)
	}
	return caArn[i+len(":certificate-authority/"):], nil
}

// CRLKey is the PKI-bucket key of the CA's DER CRL.
func CRLKey(caArn string) (string, error) {
	id, err := CAID(caArn)
	if err != nil {
		return "", err
	}
	return CRLPrefix + id + ".crl", nil
}

// PEMKey is where the CRL with this number is written as PEM.
func PEMKey(number *big.Int) string { return PEMPrefix + number.String() + ".pem" }

// Run makes the trust store's revocation list the CA's current CRL.
func (s *Syncer) Run(ctx context.Context) (*Result, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	crlKey, err := CRLKey(s.CAArn)
	if err != nil {
		return nil, err
	}
	der, err := s.get(ctx, crlKey)
	if err != nil {
		return nil, fmt.Errorf("read CRL s3://%s/%s: %w", s.Bucket, crlKey, err)
	}
	caPEM, err := s.get(ctx, CABundleKey)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate s3://%s/%s: %w", s.Bucket, CABundleKey, err)
	}
	crl, err := verify(der, caPEM, now())
	if err != nil {
		return nil, err
	}
	res := &Result{CRLNumber: crl.Number.String(), RevokedSerials: len(crl.RevokedCertificateEntries)}

	ids, err := s.revocationIDs(ctx)
	if err != nil {
		return nil, err
	}
	state, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	if id, ok := attached(state, crlKey, ids); ok {
		cur, ok := new(big.Int).SetString(state.CRLNumber, 10)
		if ok && crl.Number.Cmp(cur) < 0 {
			return res, fmt.Errorf("%w: CRL number %s at s3://%s/%s is older than the attached %s (revocation %d); a stale CRL would un-revoke devices",
				ErrRefused, res.CRLNumber, s.Bucket, crlKey, state.CRLNumber, id)
		}
		if ok && crl.Number.Cmp(cur) == 0 {
			// Up to date. Lists left by a run that stopped after its add
			// go now, and that run's record is finished.
			res.RemovedID = others(ids, id)
			if s.DryRun {
				s.log(res, "dry run: trust store already has this CRL")
				return res, nil
			}
			var errs []error
			if len(res.RemovedID) > 0 {
				errs = append(errs, s.remove(ctx, res.RemovedID))
			}
			if state.Pending {
				done := *state
				done.Pending, done.Before, done.RevocationID = false, nil, id
				errs = append(errs, s.record(ctx, done))
			}
			if err := errors.Join(errs...); err != nil {
				return res, err
			}
			s.log(res, "trust store already has this CRL")
			return res, nil
		}
	}
	res.Changed = true
	res.RemovedID = ids
	if s.DryRun {
		s.log(res, "dry run: would attach this CRL")
		return res, nil
	}

	key := PEMKey(crl.Number)
	put := &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(key),
		Body:        bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})),
		ContentType: aws.String("application/x-pem-file"),
		Metadata:    map[string]string{"crl-number": res.CRLNumber, "source": crlKey},
	}
	if s.KMSKey != "" {
		put.ServerSideEncryption, put.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(s.KMSKey)
	}
	var out *s3.PutObjectOutput
	if err := s.call(ctx, func(ctx context.Context) (err error) { out, err = s.S3.PutObject(ctx, put); return err }); err != nil {
		return res, fmt.Errorf("write PEM CRL s3://%s/%s: %w", s.Bucket, key, err)
	}
	version := aws.ToString(out.VersionId)
	next := State{Source: crlKey, CRLNumber: res.CRLNumber, Key: key, VersionID: version}

	intent := next
	intent.Pending, intent.Before = true, append([]int64{}, ids...)
	if err := s.record(ctx, intent); err != nil {
		return res, fmt.Errorf("%w; the list was not added (an add the job cannot find again is how lists pile up): the trust store keeps its current list", err)
	}
	content := elbtypes.RevocationContent{S3Bucket: aws.String(s.Bucket), S3Key: aws.String(key), RevocationType: elbtypes.RevocationTypeCrl}
	if version != "" {
		content.S3ObjectVersion = aws.String(version)
	}
	var added *elbv2.AddTrustStoreRevocationsOutput
	if err := s.call(ctx, func(ctx context.Context) (err error) {
		added, err = s.ELB.AddTrustStoreRevocations(ctx, &elbv2.AddTrustStoreRevocationsInput{
			TrustStoreArn: aws.String(s.TrustStoreArn), RevocationContents: []elbtypes.RevocationContent{content},
		})
		return err
	}); err != nil {
		return res, fmt.Errorf("add s3://%s/%s to trust store %s (if it was added after all, the next run finds it and adds nothing): %w", s.Bucket, key, s.TrustStoreArn, err)
	}
	if len(added.TrustStoreRevocations) != 1 || added.TrustStoreRevocations[0].RevocationId == nil {
		return res, fmt.Errorf("add s3://%s/%s to trust store %s: expected one revocation id, got %d", s.Bucket, key, s.TrustStoreArn, len(added.TrustStoreRevocations))
	}
	res.AddedID = *added.TrustStoreRevocations[0].RevocationId
	// The new list is attached: the old ones go, and the record names the
	// new one. Either may fail without harm: the intent already lets the
	// next run recognise the new list and finish both.
	var errs []error
	if len(res.RemovedID) > 0 {
		errs = append(errs, s.remove(ctx, res.RemovedID))
	}
	next.RevocationID = res.AddedID
	errs = append(errs, s.record(ctx, next))
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	s.log(res, "attached CRL to trust store")
	return res, nil
}

// attached returns the id of the list holding state's CRL, when the trust
// store still has it: the recorded id, or, for a run that stopped after
// recording its intent, the newest id that was not there before its add.
func attached(state *State, crlKey string, ids []int64) (int64, bool) {
	if state == nil || state.Source != crlKey {
		return 0, false
	}
	if !state.Pending {
		return state.RevocationID, state.RevocationID != 0 && contains(ids, state.RevocationID)
	}
	var newest int64
	found := false
	for _, id := range ids {
		if !contains(state.Before, id) && (!found || id > newest) {
			newest, found = id, true
		}
	}
	return newest, found
}

// record writes the state object.
func (s *Syncer) record(ctx context.Context, st State) error {
	body, _ := json.Marshal(st)
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(StateKey), Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
	}
	if s.KMSKey != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(s.KMSKey)
	}
	if err := s.call(ctx, func(ctx context.Context) error { _, err := s.S3.PutObject(ctx, in); return err }); err != nil {
		return fmt.Errorf("record state in s3://%s/%s: %w", s.Bucket, StateKey, err)
	}
	return nil
}

// call runs one AWS call under its own deadline.
func (s *Syncer) call(ctx context.Context, f func(context.Context) error) error {
	d := s.CallTimeout
	if d <= 0 {
		d = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// verify parses the DER CRL and checks it was signed by the CA certificate
// and is still current.
func verify(der, caPEM []byte, now time.Time) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: not a DER CRL: %v", ErrRefused, err)
	}
	var cas []*x509.Certificate
	for rest := caPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle %s: %v", CABundleKey, err)
		}
		cas = append(cas, c)
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("CA bundle %s holds no certificate", CABundleKey)
	}
	var sigErr error
	for _, ca := range cas {
		if sigErr = crl.CheckSignatureFrom(ca); sigErr == nil {
			break
		}
	}
	if sigErr != nil {
		return nil, fmt.Errorf("%w: CRL number %v is not signed by the CA in %s: %v", ErrRefused, crl.Number, CABundleKey, sigErr)
	}
	if crl.Number == nil {
		return nil, fmt.Errorf("%w: CRL has no CRL number extension", ErrRefused)
	}
	if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		return nil, fmt.Errorf("%w: CRL number %s expired at %s (NextUpdate); ACM PCA has stopped publishing, check the CA's revocation configuration",
			ErrRefused, crl.Number, crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	return crl, nil
}

// get reads a whole object; the deadline covers the body too, so an
// answer that stops half way fails the call.
func (s *Syncer) get(ctx context.Context, key string) (body []byte, err error) {
	err = s.call(ctx, func(ctx context.Context) error {
		out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		body, err = io.ReadAll(out.Body)
		return err
	})
	return body, err
}

// state reads StateKey; nil when there is none yet.
func (s *Syncer) state(ctx context.Context) (*State, error) {
	b, err := s.get(ctx, StateKey)
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, StateKey, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		// An unreadable record is treated as none: the run attaches the
		// current CRL and removes every other list.
		s.Log.Warn("unreadable state record, re-attaching", "key", StateKey, "err", err)
		return nil, nil
	}
	return &st, nil
}

// revocationIDs lists every revocation list in the trust store.
func (s *Syncer) revocationIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	var marker *string
	for {
		var out *elbv2.DescribeTrustStoreRevocationsOutput
		err := s.call(ctx, func(ctx context.Context) (err error) {
			out, err = s.ELB.DescribeTrustStoreRevocations(ctx, &elbv2.DescribeTrustStoreRevocationsInput{
				TrustStoreArn: aws.String(s.TrustStoreArn), Marker: marker,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("describe revocations of trust store %s: %w", s.TrustStoreArn, err)
		}
		for _, r := range out.TrustStoreRevocations {
			if r.RevocationId != nil {
				ids = append(ids, *r.RevocationId)
			}
		}
		if aws.ToString(out.NextMarker) == "" {
			return ids, nil
		}
		marker = out.NextMarker
	}
}

func (s *Syncer) remove(ctx context.Context, ids []int64) error {
	if err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.ELB.RemoveTrustStoreRevocations(ctx, &elbv2.RemoveTrustStoreRevocationsInput{
			TrustStoreArn: aws.String(s.TrustStoreArn), RevocationIds: ids,
		})
		return err
	}); err != nil {
		return fmt.Errorf("remove old revocations %v from trust store %s (the new list is attached; the next run retries): %w", ids, s.TrustStoreArn, err)
	}
	return nil
}

func (s *Syncer) log(r *Result, msg string) {
	s.Log.Info(msg, "crlNumber", r.CRLNumber, "revokedSerials", r.RevokedSerials, "changed", r.Changed,
		"addedRevocationId", r.AddedID, "removedRevocationIds", r.RemovedID, "dryRun", s.DryRun, "trustStore", s.TrustStoreArn)
}

func contains(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func others(ids []int64, keep int64) []int64 {
	var out []int64
	for _, v := range ids {
		if v != keep {
			out = append(out, v)
		}
	}
	return out
}
