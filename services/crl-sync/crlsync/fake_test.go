package crlsync

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeELB is an in-memory trust store. moto_server has no ELB trust stores
// (no CreateTrustStore or *TrustStoreRevocations), so the ELBv2 side runs
// against this fake behind the same interface. Like the ALB, it reads the
// revocation object from S3 once, when it is added, and accepts PEM only.
type fakeELB struct {
	mu     sync.Mutex
	s3     *s3.Client
	arn    string
	nextID int64
	// lists maps a revocation id to the serials it revokes.
	lists map[int64][]string
	// calls records the mutating calls in order ("add 1", "remove [1]").
	calls []string
	// pageSize makes Describe page (the job must follow NextMarker).
	pageSize int
	// failRemove makes RemoveTrustStoreRevocations fail.
	failRemove error
	// faults injects a network fault into a method by name (see fault).
	faults map[string]fault
}

// fault is what an injected network fault does to one call: refuse it at
// once (a closed port), hang until the caller's deadline (an endpoint that
// never answers), or do the work and lose the answer (a connection that
// fails half way).
type fault int

const (
	none fault = iota
	refuse
	hang
	loseAnswer
)

var errRefused = errors.New("dial tcp 127.0.0.1:443: connect: connection refused")

// before applies a refuse or hang fault; it reports whether the call may go on.
func (f fault) before(ctx context.Context) error {
	switch f {
	case refuse:
		return errRefused
	case hang:
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// after turns a completed call into a lost answer.
func (f fault) after() error {
	if f == loseAnswer {
		return errors.New("read tcp 127.0.0.1:52114->127.0.0.1:443: read: connection reset by peer")
	}
	return nil
}

func (f *fakeELB) fault(method string) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults[method]
}

func newFakeELB(c *s3.Client, arn string) *fakeELB {
	return &fakeELB{s3: c, arn: arn, nextID: 1, lists: map[int64][]string{}, pageSize: 1}
}

func (f *fakeELB) check(arn *string) error {
	if aws.ToString(arn) != f.arn {
		return &elbtypes.TrustStoreNotFoundException{Message: aws.String("no trust store " + aws.ToString(arn))}
	}
	return nil
}

func (f *fakeELB) ids() []int64 {
	var ids []int64
	for id := range f.lists {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (f *fakeELB) DescribeTrustStoreRevocations(ctx context.Context, in *elbv2.DescribeTrustStoreRevocationsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTrustStoreRevocationsOutput, error) {
	flt := f.fault("Describe")
	if err := flt.before(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(in.TrustStoreArn); err != nil {
		return nil, err
	}
	ids := f.ids()
	start := 0
	if in.Marker != nil {
		fmt.Sscan(*in.Marker, &start)
	}
	out := &elbv2.DescribeTrustStoreRevocationsOutput{}
	end := min(start+f.pageSize, len(ids))
	for _, id := range ids[start:end] {
		out.TrustStoreRevocations = append(out.TrustStoreRevocations, elbtypes.DescribeTrustStoreRevocation{
			TrustStoreArn: aws.String(f.arn), RevocationId: aws.Int64(id), RevocationType: elbtypes.RevocationTypeCrl,
			NumberOfRevokedEntries: aws.Int64(int64(len(f.lists[id]))),
		})
	}
	if end < len(ids) {
		out.NextMarker = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func (f *fakeELB) AddTrustStoreRevocations(ctx context.Context, in *elbv2.AddTrustStoreRevocationsInput, _ ...func(*elbv2.Options)) (*elbv2.AddTrustStoreRevocationsOutput, error) {
	flt := f.fault("Add")
	if err := flt.before(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(in.TrustStoreArn); err != nil {
		return nil, err
	}
	out := &elbv2.AddTrustStoreRevocationsOutput{}
	for _, c := range in.RevocationContents {
		obj, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: c.S3Bucket, Key: c.S3Key, VersionId: c.S3ObjectVersion})
		if err != nil {
			return nil, &elbtypes.RevocationContentNotFoundException{Message: aws.String(err.Error())}
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		block, _ := pem.Decode(body)
		if block == nil || block.Type != "X509 CRL" {
			return nil, &elbtypes.InvalidRevocationContentException{Message: aws.String("not a PEM CRL")}
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, &elbtypes.InvalidRevocationContentException{Message: aws.String(err.Error())}
		}
		var serials []string
		for _, e := range crl.RevokedCertificateEntries {
			serials = append(serials, e.SerialNumber.String())
		}
		id := f.nextID
		f.nextID++
		f.lists[id] = serials
		f.calls = append(f.calls, fmt.Sprintf("add %d", id))
		out.TrustStoreRevocations = append(out.TrustStoreRevocations, elbtypes.TrustStoreRevocation{
			TrustStoreArn: aws.String(f.arn), RevocationId: aws.Int64(id), RevocationType: elbtypes.RevocationTypeCrl,
			NumberOfRevokedEntries: aws.Int64(int64(len(serials))),
		})
	}
	if err := flt.after(); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *fakeELB) RemoveTrustStoreRevocations(ctx context.Context, in *elbv2.RemoveTrustStoreRevocationsInput, _ ...func(*elbv2.Options)) (*elbv2.RemoveTrustStoreRevocationsOutput, error) {
	flt := f.fault("Remove")
	if err := flt.before(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(in.TrustStoreArn); err != nil {
		return nil, err
	}
	if f.failRemove != nil {
		return nil, f.failRemove
	}
	for _, id := range in.RevocationIds {
		if _, ok := f.lists[id]; !ok {
			return nil, &elbtypes.RevocationIdNotFoundException{Message: aws.String(fmt.Sprint(id))}
		}
	}
	for _, id := range in.RevocationIds {
		delete(f.lists, id)
	}
	f.calls = append(f.calls, fmt.Sprintf("remove %v", in.RevocationIds))
	if err := flt.after(); err != nil {
		return nil, err
	}
	return &elbv2.RemoveTrustStoreRevocationsOutput{}, nil
}

// count is how many revocation lists the trust store holds.
func (f *fakeELB) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.lists)
}

// faultyS3 passes calls to moto's S3 and injects faults by
// "<method> <key>" ("PutObject trust/crl/current.json"); faultFor, when
// set, decides per call (it sees the request).
type faultyS3 struct {
	*s3.Client
	mu     sync.Mutex
	faults map[string]fault
	// stateWrite, when set, decides the fault of each state-object write
	// from the record being written.
	stateWrite func(body []byte) fault
}

func (f *faultyS3) fault(method, key string) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults[method+" "+key]
}

func (f *faultyS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	flt := f.fault("GetObject", aws.ToString(in.Key))
	if err := flt.before(ctx); err != nil {
		return nil, err
	}
	out, err := f.Client.GetObject(ctx, in, o...)
	if err == nil && flt == loseAnswer {
		// Half an answer: the body breaks off.
		out.Body = io.NopCloser(io.MultiReader(io.LimitReader(out.Body, 10), errReader{}))
	}
	return out, err
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func (f *faultyS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	flt := f.fault("PutObject", aws.ToString(in.Key))
	if aws.ToString(in.Key) == StateKey && f.stateWrite != nil {
		body, _ := io.ReadAll(in.Body)
		in.Body = bytes.NewReader(body)
		flt = f.stateWrite(body)
	}
	if err := flt.before(ctx); err != nil {
		return nil, err
	}
	out, err := f.Client.PutObject(ctx, in, o...)
	if err == nil {
		err = flt.after()
	}
	return out, err
}

// revoked is every serial the trust store refuses, sorted.
func (f *fakeELB) revoked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.lists {
		out = append(out, s...)
	}
	sort.Strings(out)
	return out
}
