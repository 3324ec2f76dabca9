// Command beacon-rotate is the beacon registry's rotation job (a CronJob in
// namespace edge-sync): it gives every beacon whose rotatesAt has passed a
// successor under a fresh random id, leaves the old id valid until its
// expiresAt (DynamoDB TTL removes it), and announces each rotation once on
// edge.beacon.updated (stream BEACONS). Package rotate holds the logic;
// docs/beacons.md ("Rotation job") is the operator's page.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/beacon-rotate/rotate"
)

// Defaults of the rotation schedule. A successor lives DefaultPeriod before
// it is itself rotated, and DefaultGrace after that, so devices and scanners
// that have not yet seen the update keep resolving the old id.
const (
	DefaultPeriod  = 24 * time.Hour
	DefaultGrace   = time.Hour
	DefaultTimeout = 5 * time.Minute
)

// Config is the job's configuration: flags, each defaulting to an
// environment variable.
type Config struct {
	Table    string
	Region   string
	NATSURL  string
	CAFile   string
	CertFile string
	KeyFile  string
	Period   time.Duration
	Grace    time.Duration
	Timeout  time.Duration
	DryRun   bool
	// CallTimeout, PublishTimeout and PublishAttempts bound each DynamoDB
	// call and each announcement (rotate.Rotator).
	CallTimeout     time.Duration
	PublishTimeout  time.Duration
	PublishAttempts int
}

const usage = `beacon-rotate rotates due beacons in the beacon registry and announces
each rotation on edge.beacon.updated (JetStream stream BEACONS).

Example (what the CronJob runs; the chart mounts the cert-manager Secret
nats-user-beacon-rotate at /etc/nats-user):

  BEACON_TABLE=spatialprops-dev-beacons AWS_REGION=ap-southeast-2 \
  NATS_URL=tls://nats.edge-nats.svc:4222 NATS_CA_FILE=/etc/nats-user/ca.crt \
  NATS_CERT_FILE=/etc/nats-user/tls.crt NATS_KEY_FILE=/etc/nats-user/tls.key \
  beacon-rotate --period 24h --grace 1h

Environment: BEACON_TABLE, AWS_REGION, NATS_URL (required; --dry-run needs
no NATS and only reads the table); NATS_CA_FILE,
NATS_CERT_FILE, NATS_KEY_FILE (all three, or none for a plaintext nats://
URL); BEACON_ROTATION_PERIOD, BEACON_GRACE_WINDOW; AWS_ENDPOINT_URL
(optional endpoint override). Flags win over the environment.

Every DynamoDB call and every publish attempt has its own deadline, and an
announcement is tried at most --publish-attempts times; when it still
fails, the run claims no further beacon (they are "deferred" to the next
run), so a NATS outage costs seconds, not the run's --timeout. SIGTERM or
SIGINT ends the run at once; what it left claimed, the next run finishes.

Exit status: 0 all rotated, 1 a rotation failed, was deferred or a record
was refused (the next run retries), 2 bad usage.

Flags:
`

// parseConfig reads flags over environment defaults. A missing or invalid
// setting is a one-line error naming the variable and its flag.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("beacon-rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	period, grace, err := durations(getenv)
	if err != nil {
		return c, err
	}
	fs.StringVar(&c.Table, "table", getenv("BEACON_TABLE"), "beacon table `name`, <org>-<env>-beacons (env BEACON_TABLE)")
	fs.StringVar(&c.NATSURL, "nats-url", getenv("NATS_URL"), "NATS `url`, tls://host:4222 (env NATS_URL)")
	fs.StringVar(&c.CAFile, "nats-ca-file", getenv("NATS_CA_FILE"), "CA bundle `file` of the NATS server certificate (env NATS_CA_FILE; Secret key ca.crt)")
	fs.StringVar(&c.CertFile, "nats-cert-file", getenv("NATS_CERT_FILE"), "client certificate `file` of user "+edge.ServiceUserName(edge.UserBeaconRotate)+" (env NATS_CERT_FILE; Secret key tls.crt)")
	fs.StringVar(&c.KeyFile, "nats-key-file", getenv("NATS_KEY_FILE"), "client key `file` (env NATS_KEY_FILE; Secret key tls.key)")
	fs.DurationVar(&c.Period, "period", period, "successor lifetime before its own rotation (env BEACON_ROTATION_PERIOD)")
	fs.DurationVar(&c.Grace, "grace", grace, "how long a rotated id stays valid after its rotatesAt (env BEACON_GRACE_WINDOW)")
	fs.DurationVar(&c.Timeout, "timeout", DefaultTimeout, "give up the whole run after this long")
	fs.DurationVar(&c.CallTimeout, "call-timeout", rotate.DefaultCallTimeout, "give up one DynamoDB call (its retries included) after this long")
	fs.DurationVar(&c.PublishTimeout, "publish-timeout", rotate.DefaultPublishTimeout, "give up one publish attempt (the stream's acknowledgement included) after this long")
	fs.IntVar(&c.PublishAttempts, "publish-attempts", rotate.DefaultPublishAttempts, "tries of one announcement before NATS counts as unavailable for the run")
	fs.BoolVar(&c.DryRun, "dry-run", false, "log what would rotate; read the table only, write and publish nothing")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	c.Region = getenv("AWS_REGION")
	switch {
	case c.Table == "":
		return c, errors.New("BEACON_TABLE (or --table) is required: the beacon table, terraform output beacons_table of <env>-edge")
	case c.Region == "":
		return c, errors.New("AWS_REGION is required: the region of the beacon table")
	case c.NATSURL == "" && !c.DryRun:
		return c, errors.New("NATS_URL (or --nats-url) is required: the NATS servers in edge-nats, e.g. tls://nats.edge-nats.svc:4222")
	case c.Period < time.Second:
		return c, fmt.Errorf("BEACON_ROTATION_PERIOD (or --period) %s must be at least 1s", c.Period)
	case c.Grace < time.Second:
		return c, fmt.Errorf("BEACON_GRACE_WINDOW (or --grace) %s must be at least 1s", c.Grace)
	case c.Timeout <= 0:
		return c, fmt.Errorf("--timeout %s must be positive", c.Timeout)
	case c.CallTimeout <= 0 || c.PublishTimeout <= 0:
		return c, fmt.Errorf("--call-timeout %s and --publish-timeout %s must be positive", c.CallTimeout, c.PublishTimeout)
	case c.PublishAttempts < 1 || c.PublishAttempts > 10:
		return c, fmt.Errorf("--publish-attempts %d must be 1 to 10", c.PublishAttempts)
	}
	if c.NATSURL == "" {
		return c, nil // --dry-run publishes nothing
	}
	u, err := url.Parse(c.NATSURL)
	if err != nil || u.Host == "" {
		return c, fmt.Errorf("NATS_URL %q is not a URL like tls://host:4222", c.NATSURL)
	}
	tlsFiles := map[string]string{"NATS_CA_FILE": c.CAFile, "NATS_CERT_FILE": c.CertFile, "NATS_KEY_FILE": c.KeyFile}
	set := c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || u.Scheme == "tls"
	for _, name := range []string{"NATS_CA_FILE", "NATS_CERT_FILE", "NATS_KEY_FILE"} {
		if set && tlsFiles[name] == "" {
			return c, fmt.Errorf("%s is required with a tls:// URL or any other NATS_*_FILE: mount Secret nats-user-%s (ca.crt, tls.crt, tls.key)", name, edge.UserBeaconRotate)
		}
	}
	return c, nil
}

func durations(getenv func(string) string) (period, grace time.Duration, err error) {
	period, grace = DefaultPeriod, DefaultGrace
	for _, d := range []struct {
		name string
		v    *time.Duration
	}{{"BEACON_ROTATION_PERIOD", &period}, {"BEACON_GRACE_WINDOW", &grace}} {
		if s := getenv(d.name); s != "" {
			if *d.v, err = time.ParseDuration(s); err != nil {
				return 0, 0, fmt.Errorf("%s=%q is not a duration like 24h or 90m", d.name, s)
			}
		}
	}
	return period, grace, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its exit status: 0 done, 1 the work failed, 2 bad usage.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "beacon-rotate:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
	if err != nil {
		log.Error("aws config", "err", err)
		return 1
	}
	r := &rotate.Rotator{
		DB: dynamodb.NewFromConfig(awsCfg), Table: cfg.Table,
		Period: cfg.Period, Grace: cfg.Grace, DryRun: cfg.DryRun, Log: log,
		CallTimeout: cfg.CallTimeout, PublishTimeout: cfg.PublishTimeout, PublishAttempts: cfg.PublishAttempts,
	}
	if !cfg.DryRun {
		// replies (JetStream acks) on beacon-rotate's own inbox, the only
		// one its NATS user may subscribe to
		opts := []nats.Option{nats.Name("beacon-rotate"), nats.Timeout(10 * time.Second),
			nats.CustomInboxPrefix(edge.ServiceInboxPrefix(edge.UserBeaconRotate))}
		if cfg.CertFile != "" {
			opts = append(opts, nats.RootCAs(cfg.CAFile), nats.ClientCert(cfg.CertFile, cfg.KeyFile))
		}
		nc, err := nats.Connect(cfg.NATSURL, opts...)
		if err != nil {
			log.Error("nats connect", "url", cfg.NATSURL, "err", err)
			return 1
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			log.Error("jetstream", "err", err)
			return 1
		}
		r.Pub = rotate.JetStream{JS: js}
	}
	if _, err := r.Run(ctx); err != nil {
		log.Error("beacon rotation failed", "err", err, "interrupted", errors.Is(ctx.Err(), context.Canceled))
		return 1
	}
	return 0
}
