package crlsync

import (
	"context"
	"crypto/x509"
	"encoding/pem"
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

func (f *fakeELB) DescribeTrustStoreRevocations(_ context.Context, in *elbv2.DescribeTrustStoreRevocationsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTrustStoreRevocationsOutput, error) {
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
	return out, nil
}

func (f *fakeELB) RemoveTrustStoreRevocations(_ context.Context, in *elbv2.RemoveTrustStoreRevocationsInput, _ ...func(*elbv2.Options)) (*elbv2.RemoveTrustStoreRevocationsOutput, error) {
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
	return &elbv2.RemoveTrustStoreRevocationsOutput{}, nil
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
