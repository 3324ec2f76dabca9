// Package gate is the provenance gate: the only way a pack gets from
// staging/ to published/. A publisher's upload waits in
// staging/<publisher>/<pack>/<version>/<file>; on a publish request the
// gate checks the publisher is registered, the licence id is one it knows
// (which also decides open or licensed), and the staged bytes hash to the
// digest the publisher declared. Only then does it sign the attestation
// statement with the provenance KMS key (marketplace/attestation.go),
// verify the signature with the key's public half, copy the file to
// published/<access>/<pack>/<version>/<file> and write attestation.json
// beside it, in that order, so a pack is listed only once both are there.
// It also delists: it removes a version's attestation, then its file.
package gate

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// S3API is the part of S3 the gate calls.
type S3API interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// KMSAPI signs with the provenance key and reads its public half.
type KMSAPI interface {
	Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// Gate publishes and delists packs.
type Gate struct {
	S3     S3API
	KMS    KMSAPI
	Bucket string
	// KeyID is the provenance key (alias/<org>-<env>-provenance or its ARN).
	KeyID string
	// Licences maps each licence id the marketplace accepts to its access:
	// marketplace.AccessOpen or marketplace.AccessLicensed.
	Licences map[string]string
	// Publishers are the registered publisher ids.
	Publishers map[string]bool
	Now        func() time.Time
	Log        *slog.Logger

	mu          sync.Mutex
	pub         *ecdsa.PublicKey
	attestation *prometheus.CounterVec
}

// Register adds provenance_attestations_total{result="valid"|"invalid"},
// the series the ProvenanceInvalidAttestationRatio alert reads.
func (g *Gate) Register(reg prometheus.Registerer) {
	g.attestation = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "provenance_attestations_total",
		Help: "Publish requests checked by the provenance gate: valid (attested and published) or invalid (refused)."}, []string{"result"})
	g.attestation.WithLabelValues("valid")
	g.attestation.WithLabelValues("invalid")
	reg.MustRegister(g.attestation)
}

// PublishRequest asks the gate to publish one staged file.
type PublishRequest struct {
	Publisher string `json:"publisher"`
	Pack      string `json:"pack"`
	Version   string `json:"version"`
	File      string `json:"file"`
	// SHA256 is the publisher's declared digest of the file (lowercase hex).
	SHA256    string `json:"sha256"`
	LicenseID string `json:"licenseId"`
}

// DelistRequest removes one published version.
type DelistRequest struct {
	Pack    string `json:"pack"`
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

// Refusal is a request the gate will not serve.
type Refusal struct {
	Status        int
	Code, Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

func (g *Gate) invalid(status int, code, format string, args ...any) *Refusal {
	g.attestation.WithLabelValues("invalid").Inc()
	return &Refusal{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Published is the gate's answer.
type Published struct {
	Document marketplace.Document `json:"attestation"`
	Path     string               `json:"path"`
}

// Publish attests and publishes a staged file.
func (g *Gate) Publish(ctx context.Context, req PublishRequest) (*Published, error) {
	p := marketplace.Pack{Pack: req.Pack, Version: req.Version, File: req.File}
	if err := p.Validate(); err != nil {
		return nil, g.invalid(http.StatusBadRequest, "invalid_request", "%v", err)
	}
	if !marketplace.ValidID(req.Publisher) || !g.Publishers[req.Publisher] {
		return nil, g.invalid(http.StatusForbidden, "unknown_publisher", "publisher %q is not registered with the marketplace", req.Publisher)
	}
	access, ok := g.Licences[req.LicenseID]
	if !ok {
		return nil, g.invalid(http.StatusUnprocessableEntity, "unknown_licence", "licence %q is not one the marketplace sells under", req.LicenseID)
	}
	staged := marketplace.StagingKey(req.Publisher, p)
	obj, err := g.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(staged)})
	var noKey *s3types.NoSuchKey
	if errors.As(err, &noKey) {
		return nil, g.invalid(http.StatusNotFound, "not_staged", "nothing at s3://%s/%s: upload the file to staging first", g.Bucket, staged)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", staged, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	obj.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", staged, err)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if digest != strings.ToLower(req.SHA256) {
		return nil, g.invalid(http.StatusUnprocessableEntity, "digest_mismatch", "the staged file (%d bytes) has sha256 %s, not the declared %s", n, digest, req.SHA256)
	}
	st := marketplace.Statement{PackDigest: digest, LicenseID: req.LicenseID, Publisher: req.Publisher, IssuedAt: g.Now().UTC().Truncate(time.Second)}
	if err := st.Validate(); err != nil {
		return nil, g.invalid(http.StatusBadRequest, "invalid_request", "%v", err)
	}
	signed, err := g.KMS.Sign(ctx, &kms.SignInput{KeyId: aws.String(g.KeyID), Message: st.Canonical(),
		MessageType: kmstypes.MessageTypeRaw, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		return nil, fmt.Errorf("kms sign: %w", err)
	}
	doc := marketplace.NewDocument(access, p, marketplace.Attestation{Statement: st, Signature: signed.Signature}, aws.ToString(signed.KeyId))
	pub, err := g.publicKey(ctx)
	if err != nil {
		return nil, err
	}
	if err := doc.VerifySignature(pub); err != nil {
		return nil, fmt.Errorf("the new attestation does not verify with the provenance key's public half: %w", err)
	}
	if _, err := g.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(marketplace.PublishedKey(access, p)),
		CopySource: aws.String(g.Bucket + "/" + staged)}); err != nil {
		return nil, fmt.Errorf("copy to published: %w", err)
	}
	body, _ := json.MarshalIndent(doc, "", "  ")
	if _, err := g.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(marketplace.AttestationKey(access, p)),
		Body: strings.NewReader(string(body)), ContentType: aws.String("application/json")}); err != nil {
		return nil, fmt.Errorf("write the attestation: %w", err)
	}
	g.attestation.WithLabelValues("valid").Inc()
	g.Log.InfoContext(ctx, "published", "publisher", req.Publisher, "pack", p.Pack, "version", p.Version, "access", access, "bytes", n, "sha256", digest)
	return &Published{Document: doc, Path: marketplace.CDNPath(access, p)}, nil
}

func (g *Gate) publicKey(ctx context.Context) (*ecdsa.PublicKey, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pub != nil {
		return g.pub, nil
	}
	out, err := g.KMS.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(g.KeyID)})
	if err != nil {
		return nil, fmt.Errorf("provenance public key: %w", err)
	}
	pub, err := marketplace.ParsePublicKey(out.PublicKey)
	if err != nil {
		return nil, err
	}
	g.pub = pub
	return pub, nil
}

var reasonRe = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)

// Delist removes a published version: the attestation first (so it leaves
// every listing at once), then the file. It returns the access the
// version was published under; a version that is not published is a
// refusal, so a rerun after a success says so.
func (g *Gate) Delist(ctx context.Context, req DelistRequest) (string, error) {
	if !marketplace.ValidID(req.Pack) || !marketplace.ValidID(req.Version) || !reasonRe.MatchString(req.Reason) {
		return "", &Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: "pack, version and a reason (lowercase, e.g. licence_dispute) are required"}
	}
	for _, access := range []string{marketplace.AccessLicensed, marketplace.AccessOpen} {
		att := marketplace.AttestationKey(access, marketplace.Pack{Pack: req.Pack, Version: req.Version, File: "x"})
		raw, err := g.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(att)})
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", att, err)
		}
		var doc marketplace.Document
		err = json.NewDecoder(io.LimitReader(raw.Body, 1<<16)).Decode(&doc)
		raw.Body.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", att, err)
		}
		for _, key := range []string{att, marketplace.PublishedKey(access, doc.PackFile())} {
			if _, err := g.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(key)}); err != nil {
				return "", fmt.Errorf("delete %s: %w", key, err)
			}
		}
		g.Log.InfoContext(ctx, "delisted", "pack", req.Pack, "version", req.Version, "access", access, "reason", req.Reason)
		return access, nil
	}
	return "", &Refusal{Status: http.StatusNotFound, Code: "not_published", Message: fmt.Sprintf("%s %s is not published", req.Pack, req.Version)}
}

// Routes adds POST /v1/publish and POST /v1/delist.
func (g *Gate) Routes(s *kit.Service) {
	s.Handle("POST /v1/publish", func(w http.ResponseWriter, r *http.Request) {
		var req PublishRequest
		if err := kit.DecodeJSON(r, 4096, &req); err != nil {
			g.attestation.WithLabelValues("invalid").Inc()
			kit.WriteProblem(w, http.StatusBadRequest, "invalid_request", "%v", err)
			return
		}
		out, err := g.Publish(r.Context(), req)
		g.answer(w, r, err, http.StatusCreated, out)
	})
	s.Handle("POST /v1/delist", func(w http.ResponseWriter, r *http.Request) {
		var req DelistRequest
		if err := kit.DecodeJSON(r, 1024, &req); err != nil {
			kit.WriteProblem(w, http.StatusBadRequest, "invalid_request", "%v", err)
			return
		}
		access, err := g.Delist(r.Context(), req)
		g.answer(w, r, err, http.StatusOK, map[string]string{"pack": req.Pack, "version": req.Version, "access": access, "reason": req.Reason})
	})
}

func (g *Gate) answer(w http.ResponseWriter, r *http.Request, err error, status int, out any) {
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		g.Log.WarnContext(r.Context(), "refused", "code", ref.Code, "reason", ref.Message)
		kit.WriteProblem(w, ref.Status, ref.Code, "%s", ref.Message)
	case err != nil:
		g.Log.ErrorContext(r.Context(), "failed", "error", err.Error())
		kit.WriteProblem(w, http.StatusBadGateway, "gate_failed", "the gate could not finish; retry the same request")
	default:
		kit.WriteJSON(w, status, out)
	}
}
