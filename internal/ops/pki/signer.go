// Package pki is the PKI ceremony of an environment's CA hierarchy (spctl
// pki ceremony): the offline root is a KMS key that never leaves KMS; the
// ceremony makes the root's self-signed certificate with it, signs each
// ACM PCA subordinate CA's CSR (device and service), installs the
// certificates, and writes the NATS auth callout's account key into
// Secrets Manager. It is run by a person holding the MFA-only
// <org>-<env>-pki-ceremony role, the only principal the root key's policy
// lets sign.
package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS is the part of the KMS API the ceremony uses.
type KMS interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
}

// CallTimeout bounds each AWS call of the ceremony.
const CallTimeout = 30 * time.Second

// maxRawMessage is the largest message kms:Sign takes with MessageType RAW.
const maxRawMessage = 4096

// KMSSigner signs with an asymmetric KMS key: a crypto.Signer (digests,
// MessageType DIGEST) and a crypto.MessageSigner (whole messages,
// MessageType RAW), which x509.CreateCertificate prefers, so KMS hashes
// the to-be-signed certificate itself.
type KMSSigner struct {
	ctx    context.Context
	client KMS
	keyID  string
	pub    crypto.PublicKey
	alg    kmstypes.SigningAlgorithmSpec
	hash   crypto.Hash
}

// NewKMSSigner reads the key's public half and signing algorithm. Only
// ECDSA keys of P-256 and P-384 are accepted.
func NewKMSSigner(ctx context.Context, client KMS, keyID string) (*KMSSigner, error) {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	out, err := client.GetPublicKey(cctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("read root key %s: %w", keyID, err)
	}
	if out.KeyUsage != kmstypes.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("root key %s is a %s key; the root CA needs SIGN_VERIFY", keyID, out.KeyUsage)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("root key %s: %w", keyID, err)
	}
	s := &KMSSigner{ctx: ctx, client: client, keyID: aws.ToString(out.KeyId), pub: pub}
	// The curve decides the algorithm (moto_server leaves KeySpec empty in
	// GetPublicKey; the public key itself is authoritative anyway).
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("root key %s is not an ECDSA key; the ceremony signs with ECC_NIST_P384 (or P256) keys", keyID)
	}
	switch ec.Curve.Params().Name {
	case "P-384":
		s.alg, s.hash = kmstypes.SigningAlgorithmSpecEcdsaSha384, crypto.SHA384
	case "P-256":
		s.alg, s.hash = kmstypes.SigningAlgorithmSpecEcdsaSha256, crypto.SHA256
	default:
		return nil, fmt.Errorf("root key %s is on curve %s; the ceremony signs with ECC_NIST_P384 (or P256) keys", keyID, ec.Curve.Params().Name)
	}
	return s, nil
}

// Public is the key's public half.
func (s *KMSSigner) Public() crypto.PublicKey { return s.pub }

// Sign signs a digest (MessageType DIGEST).
func (s *KMSSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != s.hash {
		return nil, fmt.Errorf("kms signer: hash %v requested, key signs with %v", opts.HashFunc(), s.hash)
	}
	return s.sign(digest, kmstypes.MessageTypeDigest)
}

// SignMessage signs a whole message (MessageType RAW): KMS hashes it.
func (s *KMSSigner) SignMessage(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != s.hash {
		return nil, fmt.Errorf("kms signer: hash %v requested, key signs with %v", opts.HashFunc(), s.hash)
	}
	if len(msg) > maxRawMessage {
		h := s.hash.New()
		h.Write(msg)
		return s.Sign(r, h.Sum(nil), opts)
	}
	return s.sign(msg, kmstypes.MessageTypeRaw)
}

func (s *KMSSigner) sign(msg []byte, typ kmstypes.MessageType) ([]byte, error) {
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	out, err := s.client.Sign(ctx, &kms.SignInput{KeyId: aws.String(s.keyID), Message: msg, MessageType: typ, SigningAlgorithm: s.alg})
	if err != nil {
		return nil, fmt.Errorf("kms:Sign with %s: %w", s.keyID, err)
	}
	if len(out.Signature) == 0 {
		return nil, errors.New("kms:Sign returned no signature")
	}
	return out.Signature, nil
}

var (
	_ crypto.Signer        = (*KMSSigner)(nil)
	_ crypto.MessageSigner = (*KMSSigner)(nil)
)
