package awskit_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

// GIVEN an AWS endpoint that accepts connections and never answers THEN a
// call made with the kit's bounds ends by the operation deadline instead
// of hanging, having tried more than once.
func TestAWSCallsCannotHang(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close()
		}
	}()
	cfg := awskit.Bound(aws.Config{
		Region: "ap-southeast-2", BaseEndpoint: aws.String("http://" + l.Addr().String()),
		Credentials: credentials.NewStaticCredentialsProvider("t", "t", ""),
	}, awskit.Options{AttemptTimeout: 200 * time.Millisecond, OperationTimeout: 1500 * time.Millisecond, MaxAttempts: 3})
	start := time.Now()
	_, err = sqs.NewFromConfig(cfg).ListQueues(context.Background(), &sqs.ListQueuesInput{})
	took := time.Since(start)
	if err == nil {
		t.Fatal("a silent endpoint must fail the call")
	}
	if took > 2500*time.Millisecond {
		t.Fatalf("the call took %s; the operation deadline is 1.5s", took)
	}
	if accepted.Load() < 2 {
		t.Fatalf("%d attempt(s) reached the endpoint; a timed-out attempt is retried: %v", accepted.Load(), err)
	}

	// A closed port fails fast too.
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l2.Addr().String()
	l2.Close()
	cfg.BaseEndpoint = aws.String("http://" + closed)
	start = time.Now()
	_, err = sqs.NewFromConfig(cfg).ListQueues(context.Background(), &sqs.ListQueuesInput{})
	var oe interface{ Error() string }
	if err == nil || !errors.As(err, &oe) || time.Since(start) > 2500*time.Millisecond {
		t.Fatalf("closed port: err=%v after %s", err, time.Since(start))
	}
}
