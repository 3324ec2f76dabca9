package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

// TestMain stops the moto_server motoserver.Endpoint started for a
// standalone run (under `make test` the shared MOTO_ENDPOINT is used).
func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

func event(id string) string {
	b, _ := json.Marshal(marketplace.BillingEvent{Type: marketplace.EventPackPurchased, PurchaseID: "purchase-" + id,
		Subject: marketplace.DeviceSubject("dev-1"), Pack: "perth-cbd", LicenseID: "spatialprops-commercial-1.0", At: time.Unix(1800000000, 0)})
	return string(b)
}

func send(t *testing.T, q *sqs.Client, url, body string) {
	t.Helper()
	if _, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, q *sqs.Client, url string) int {
	t.Helper()
	a, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range a.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}

// GIVEN three valid billing events THEN each is logged by ids and size,
// acknowledged and counted, and the queue is empty.
func TestValidEventsAreHandledAndAcknowledged(t *testing.T) {
	w := edgeworld.New(t, edgeworld.Options{})
	q := sqs.NewFromConfig(w.AWS)
	for _, id := range []string{"0001", "0002", "0003"} {
		send(t, q, w.BillingQueueURL, event(id))
	}
	var logs kittest.Logs
	c := NewConsumer(q, w.BillingQueueURL, kit.NewLogger(&logs, 0), 1, prometheus.NewRegistry())
	for i := 0; i < 5 && testutil.ToFloat64(c.events) < 3; i++ {
		if _, err := c.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(c.events); got != 3 {
		t.Fatalf("billing_events_total = %v, want 3", got)
	}
	for _, id := range []string{"purchase-0001", "purchase-0002", "purchase-0003"} {
		if !strings.Contains(logs.String(), `"purchaseId":"`+id+`"`) {
			t.Errorf("purchase %s not logged:\n%s", id, logs.String())
		}
	}
	if strings.Contains(logs.String(), "spatialprops-commercial-1.0") || strings.Contains(logs.String(), "dev-1") {
		t.Errorf("logs must carry ids and sizes, not event bodies:\n%s", logs.String())
	}
	if n := count(t, q, w.BillingQueueURL); n != 0 {
		t.Errorf("%d messages left after acknowledging every event", n)
	}
	if err := c.Ready(context.Background()); err != nil {
		t.Errorf("ready after a successful receive: %v", err)
	}
}

// GIVEN a poison message (an e-mail address and an API key in a body that
// is no billing event) THEN the consumer never deletes it: it comes back
// until the redrive policy moves it to the DLQ; it is counted as invalid,
// never as billed; its body never reaches the logs. (Issue 24: the stub
// deleted every message and logged whole bodies.)
func TestPoisonMessageIsLeftForTheDeadLetterQueue(t *testing.T) {
	w := edgeworld.New(t, edgeworld.Options{VisibilitySeconds: 1, MaxReceives: 2})
	q := sqs.NewFromConfig(w.AWS)
	poison := `{"type":"pack.purchased","email":"alice@example.com","api_key":"sk_live_0123456789"}`
	send(t, q, w.BillingQueueURL, poison)
	var logs kittest.Logs
	c := NewConsumer(q, w.BillingQueueURL, kit.NewLogger(&logs, 0), 1, prometheus.NewRegistry())
	deadline := time.Now().Add(15 * time.Second)
	for count(t, q, w.BillingDLQURL) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the poison message never reached the DLQ; queue holds %d", count(t, q, w.BillingQueueURL))
		}
		if _, err := c.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if testutil.ToFloat64(c.events) != 0 || testutil.ToFloat64(c.invalid) < 1 {
		t.Fatalf("billed=%v invalid=%v; junk must never count as billed", testutil.ToFloat64(c.events), testutil.ToFloat64(c.invalid))
	}
	for _, secret := range []string{"alice@example.com", "sk_live_0123456789"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log carries %q from the message body:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), fmt.Sprintf(`"bytes":%d`, len(poison))) {
		t.Errorf("the log names the message by id and size:\n%s", logs.String())
	}
	long := strings.Repeat("x", 250*1024)
	if _, err := decode(long); err == nil || !strings.Contains(err.Error(), "over the 4096-byte limit") {
		t.Errorf("a 250 KB body must be refused by size: %v", err)
	}
}

// failingDelete makes every acknowledgement fail.
type failingDelete struct{ *sqs.Client }

func (f failingDelete) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return nil, fmt.Errorf("AccessDenied")
}

func TestAFailedAckIsNotCountedAndTheEventComesBack(t *testing.T) {
	w := edgeworld.New(t, edgeworld.Options{VisibilitySeconds: 1, MaxReceives: 5})
	q := sqs.NewFromConfig(w.AWS)
	send(t, q, w.BillingQueueURL, event("0009"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bad := NewConsumer(failingDelete{q}, w.BillingQueueURL, log, 1, prometheus.NewRegistry())
	if n, err := bad.Poll(context.Background()); err != nil || n != 0 || testutil.ToFloat64(bad.events) != 0 {
		t.Fatalf("failed ack: n=%d err=%v; want nothing counted", n, err)
	}
	time.Sleep(1500 * time.Millisecond)
	good := NewConsumer(q, w.BillingQueueURL, log, 1, prometheus.NewRegistry())
	if n, err := good.Poll(context.Background()); err != nil || n != 1 {
		t.Fatalf("the unacknowledged event must be redelivered: n=%d err=%v", n, err)
	}
}

func TestNotReadyBeforeAReceive(t *testing.T) {
	c := NewConsumer(nil, "", slog.New(slog.NewTextHandler(io.Discard, nil)), 1, prometheus.NewRegistry())
	if err := c.Ready(context.Background()); err == nil {
		t.Error("ready before any receive")
	}
}
