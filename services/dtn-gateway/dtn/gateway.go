// Package dtn is the DTN gateway: store-and-forward of small envelopes
// (hints and claims, at most 50 KB) between the edge and the satellite and
// LPWAN uplinks.
//
// Accept stores an envelope's body in the DTN bucket under its idempotency
// key and queues a pointer on the outbox queue; a retried request with the
// same key and body is a no-op that queues again (at-least-once), a
// different body under a used key is a conflict. The forwarder takes
// pointers only while an uplink is available (so a link outage never burns
// the queue's receive count), sends the body with its idempotency key,
// writes a forwarded marker, and only then deletes the pointer; a pointer
// it cannot handle stays, and the queue's redrive policy moves it to the
// dead-letter queue after maxReceiveCount failures. A restart loses
// nothing: state is in S3 and SQS, and the marker stops a redelivered
// pointer from being sent twice.
package dtn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// S3API is the part of S3 the gateway calls.
type S3API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// SQSAPI is the part of SQS the gateway calls.
type SQSAPI interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Uplink is one link to the outside (satellite, LPWAN). The adapters are
// placeholders, as the guide asks; the gateway only needs this much.
type Uplink interface {
	Name() string
	// Available reports whether the link can take a bundle now.
	Available(ctx context.Context) error
	// Send delivers body; key is the envelope's idempotency key, which the
	// far side uses to drop a duplicate.
	Send(ctx context.Context, key string, body []byte) error
}

// Pointer is the outbox message: where the body is and what it must hash to.
type Pointer struct {
	Key    string `json:"key"`
	Object string `json:"object"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

// Object prefixes in the DTN bucket.
const (
	EnvelopePrefix  = "envelopes/"
	ForwardedPrefix = "forwarded/"
	// KeyHeader carries the envelope's idempotency key.
	KeyHeader = "Idempotency-Key"
)

var keyRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// Gateway accepts and forwards envelopes.
type Gateway struct {
	S3       S3API
	SQS      SQSAPI
	Bucket   string
	QueueURL string
	// MaxBytes is the envelope limit (edge.MaxEnvelopeBytes, 50 KB).
	MaxBytes int
	Uplinks  []Uplink
	Log      *slog.Logger
	// Wait is the outbox long-poll wait in seconds (at most 20); Idle is
	// how long the forwarder sleeps when no uplink is available.
	Wait int32
	Idle time.Duration

	accepted, forwarded *prometheus.CounterVec
	rejected, failures  *prometheus.CounterVec
}

// Register adds the gateway's metrics to reg.
func (g *Gateway) Register(reg prometheus.Registerer) {
	g.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dtn_envelopes_accepted_total", Help: "Envelopes stored and queued, by whether the key was new."}, []string{"repeat"})
	g.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dtn_envelopes_rejected_total", Help: "Envelopes refused, by reason."}, []string{"reason"})
	g.forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dtn_envelopes_forwarded_total", Help: "Envelopes delivered to an uplink, by uplink."}, []string{"uplink"})
	g.failures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dtn_forward_failures_total", Help: "Pointers left for redelivery (and, after maxReceiveCount, the DLQ), by reason."}, []string{"reason"})
	g.accepted.WithLabelValues("false")
	g.accepted.WithLabelValues("true")
	for _, r := range []string{"too_large", "no_key", "conflict", "empty"} {
		g.rejected.WithLabelValues(r)
	}
	for _, u := range g.Uplinks {
		g.forwarded.WithLabelValues(u.Name())
	}
	reg.MustRegister(g.accepted, g.rejected, g.forwarded, g.failures)
}

// Routes adds POST /v1/envelopes.
func (g *Gateway) Routes(s *kit.Service) {
	s.Handle("POST /v1/envelopes", g.accept)
}

func (g *Gateway) accept(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get(KeyHeader)
	if !keyRe.MatchString(key) {
		g.rejected.WithLabelValues("no_key").Inc()
		kit.WriteProblem(w, http.StatusBadRequest, "missing_idempotency_key", "send an %s header of 8-128 characters of A-Z a-z 0-9 . _ : - so a retry is not stored twice", KeyHeader)
		return
	}
	if r.ContentLength > int64(g.MaxBytes) {
		g.tooLarge(w, r, r.ContentLength)
		return
	}
	body, err := kit.ReadBody(r, int64(g.MaxBytes))
	if errors.Is(err, kit.ErrTooLarge) {
		g.tooLarge(w, r, -1)
		return
	}
	if err != nil {
		kit.WriteProblem(w, http.StatusBadRequest, "bad_request", "%v", err)
		return
	}
	if len(body) == 0 {
		g.rejected.WithLabelValues("empty").Inc()
		kit.WriteProblem(w, http.StatusBadRequest, "empty_envelope", "the envelope has no body")
		return
	}
	p, repeat, err := g.Store(r.Context(), key, body)
	var conflict *ConflictError
	switch {
	case errors.As(err, &conflict):
		g.rejected.WithLabelValues("conflict").Inc()
		kit.WriteProblem(w, http.StatusConflict, "idempotency_conflict", "%v", err)
		return
	case err != nil:
		g.Log.ErrorContext(r.Context(), "store", "key", key, "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "store_failed", "the envelope was not queued; retry with the same %s", KeyHeader)
		return
	}
	g.accepted.WithLabelValues(fmt.Sprint(repeat)).Inc()
	g.Log.InfoContext(r.Context(), "envelope queued", "key", key, "bytes", len(body), "repeat", repeat)
	kit.WriteJSON(w, http.StatusAccepted, p)
}

func (g *Gateway) tooLarge(w http.ResponseWriter, r *http.Request, size int64) {
	g.rejected.WithLabelValues("too_large").Inc()
	what := "over"
	if size > 0 {
		what = fmt.Sprintf("%d bytes, over", size)
	}
	g.Log.WarnContext(r.Context(), "envelope too large", "bytes", size, "limit", g.MaxBytes)
	kit.WriteProblem(w, http.StatusRequestEntityTooLarge, "envelope_too_large",
		"the envelope is %s the %d-byte (50 KB) limit satellite and LPWAN links carry; split it into smaller envelopes", what, g.MaxBytes)
}

// ConflictError is a used idempotency key sent with another body.
type ConflictError struct{ Key string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("idempotency key %s was used for a different envelope; use a new key for new content", e.Key)
}

// Store keeps body under key and queues its pointer. repeat is true when
// the same body was stored under key before (a retry).
func (g *Gateway) Store(ctx context.Context, key string, body []byte) (Pointer, bool, error) {
	sum := sha256.Sum256(body)
	p := Pointer{Key: key, Object: EnvelopePrefix + key, SHA256: hex.EncodeToString(sum[:]), Bytes: len(body)}
	repeat := false
	head, err := g.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(p.Object)})
	var nf *s3types.NotFound
	switch {
	case err == nil && head.Metadata["sha256"] == p.SHA256:
		repeat = true
	case err == nil:
		return p, false, &ConflictError{Key: key}
	case !errors.As(err, &nf):
		return p, false, fmt.Errorf("head %s: %w", p.Object, err)
	default:
		if _, err := g.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(p.Object),
			Body: bytes.NewReader(body), ContentType: aws.String("application/octet-stream"), Metadata: map[string]string{"sha256": p.SHA256}}); err != nil {
			return p, false, fmt.Errorf("put %s: %w", p.Object, err)
		}
	}
	msg, _ := json.Marshal(p)
	if _, err := g.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(g.QueueURL), MessageBody: aws.String(string(msg))}); err != nil {
		return p, repeat, fmt.Errorf("queue %s: %w", key, err)
	}
	return p, repeat, nil
}

// available is the first uplink that can take a bundle now.
func (g *Gateway) available(ctx context.Context) Uplink {
	for _, u := range g.Uplinks {
		if err := u.Available(ctx); err == nil {
			return u
		}
	}
	return nil
}

// Forward is one round: if an uplink is available, receive a batch and
// forward each pointer. It returns how many were delivered.
func (g *Gateway) Forward(ctx context.Context) (int, error) {
	up := g.available(ctx)
	if up == nil {
		return 0, nil
	}
	out, err := g.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(g.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: g.Wait})
	if err != nil {
		return 0, fmt.Errorf("receive: %w", err)
	}
	done := 0
	for _, m := range out.Messages {
		id := aws.ToString(m.MessageId)
		reason, err := g.forwardOne(ctx, up, aws.ToString(m.Body))
		if err != nil {
			g.failures.WithLabelValues(reason).Inc()
			g.Log.WarnContext(ctx, "not forwarded; the pointer comes back, then goes to the DLQ", "messageId", id, "bytes", len(aws.ToString(m.Body)), "reason", reason, "error", err.Error())
			continue
		}
		if _, err := g.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(g.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			g.failures.WithLabelValues("ack").Inc()
			g.Log.WarnContext(ctx, "forwarded, but the pointer could not be deleted; the marker stops a second send", "messageId", id, "error", err.Error())
			continue
		}
		if reason == "" {
			g.forwarded.WithLabelValues(up.Name()).Inc()
		}
		done++
	}
	return done, nil
}

// forwardOne delivers one pointer's envelope. A non-empty reason with a
// nil error means it needed no delivery (already forwarded).
func (g *Gateway) forwardOne(ctx context.Context, up Uplink, body string) (string, error) {
	var p Pointer
	if err := kit.DecodeStrict([]byte(body), &p); err != nil || !keyRe.MatchString(p.Key) || p.Object != EnvelopePrefix+p.Key {
		return "invalid_pointer", fmt.Errorf("not a DTN pointer: %v", err)
	}
	marker := ForwardedPrefix + p.Key
	if _, err := g.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(marker)}); err == nil {
		return "duplicate", nil
	}
	obj, err := g.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(p.Object)})
	if err != nil {
		return "missing_body", err
	}
	data, err := io.ReadAll(io.LimitReader(obj.Body, int64(g.MaxBytes)+1))
	obj.Body.Close()
	if err != nil {
		return "read_body", err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != p.SHA256 {
		return "digest_mismatch", errors.New("the stored body does not match the pointer's sha256")
	}
	if err := up.Send(ctx, p.Key, data); err != nil {
		return "uplink", fmt.Errorf("%s: %w", up.Name(), err)
	}
	if _, err := g.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String(marker), Body: bytes.NewReader(nil),
		Metadata: map[string]string{"uplink": up.Name()}}); err != nil {
		return "marker", err
	}
	return "", nil
}

// Run forwards until ctx ends, idling while no uplink is available.
func (g *Gateway) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		n, err := g.Forward(ctx)
		if err != nil && ctx.Err() == nil {
			g.Log.Error("forward", "error", err.Error())
		}
		if n == 0 && (err != nil || g.available(ctx) == nil) {
			select {
			case <-ctx.Done():
			case <-time.After(g.Idle):
			}
		}
	}
	return nil
}
