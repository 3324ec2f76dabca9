package main

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/spatialprops/spatialprops-infra/services/beacon-rotate/internal/beacontest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// TestMain stops the moto_server motoserver.Endpoint started for a
// standalone run (under `make test` the shared MOTO_ENDPOINT is used). With
// BEACON_ROTATE_TEST_MAIN=1 the test binary is beacon-rotate itself, run
// with the arguments after "--beacon-rotate" (subprocess tests).
func TestMain(m *testing.M) {
	faultnet.ChildMain("BEACON_ROTATE_TEST_MAIN", "--beacon-rotate", "beacon-rotate", main)
	os.Exit(motoserver.Run(m))
}

// logLines decodes the JSON log lines the job wrote.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "every log line is JSON: %s", sc.Text())
		lines = append(lines, m)
	}
	return lines
}

// GIVEN the binary's own wiring (environment, AWS_ENDPOINT_URL, NATS URL)
// WHEN it runs against moto and JetStream THEN it rotates the due beacon,
// logs one line for it and a summary, and exits 0; a second run exits 0
// having done nothing; without the BEACONS stream it exits 1.
func TestRunEndToEnd(t *testing.T) {
	endpoint := motoserver.Endpoint(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "ap-southeast-2")
	ctx := context.Background()
	db, table := beacontest.Table(t)
	seed := func(id string) {
		now := time.Now().Unix()
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			edge.BeaconAttrVenueID: &types.AttributeValueMemberS{Value: "venue-1"}, edge.BeaconAttrBeaconID: &types.AttributeValueMemberS{Value: id},
			edge.BeaconAttrPacket:    &types.AttributeValueMemberS{Value: "s3://packs/venue-1/p.json"},
			edge.BeaconAttrRotatesAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(now-60, 10)},
			edge.BeaconAttrExpiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(now+3600, 10)},
		}})
		require.NoError(t, err)
	}
	seed("b-1")

	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	t.Cleanup(s.Shutdown)
	env := map[string]string{"BEACON_TABLE": table, "AWS_REGION": "ap-southeast-2", "NATS_URL": s.ClientURL()}

	// --dry-run reads the table only: no NATS, nothing changes.
	var out, errOut strings.Builder
	require.Equal(t, 0, run([]string{"--dry-run"}, envOf(map[string]string{"BEACON_TABLE": table, "AWS_REGION": "ap-southeast-2"}), &out, &errOut), out.String())
	lines := logLines(t, out.String())
	require.Len(t, lines, 2, out.String())
	assert.Equal(t, "would rotate", lines[0]["msg"])
	assert.Equal(t, true, lines[1]["dryRun"])

	// No BEACONS stream: the publish cannot be stored, the run fails.
	out.Reset()
	require.Equal(t, 1, run(nil, envOf(env), &out, &errOut), out.String())

	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: edge.StreamBeacons, Subjects: []string{edge.SubjectBeaconUpdated}, Duplicates: 2 * time.Minute})
	require.NoError(t, err)

	seed("b-2")
	out.Reset()
	require.Equal(t, 0, run([]string{"--period", "2h", "--grace", "10m"}, envOf(env), &out, &errOut), out.String())
	lines = logLines(t, out.String())
	require.Len(t, lines, 3, "one line per rotation plus the summary:\n%s", out.String())
	var ids []any
	for _, l := range lines[:2] {
		assert.Equal(t, "rotated", l["msg"])
		ids = append(ids, l["msgId"])
	}
	assert.ElementsMatch(t, []any{"beacon-rotate/venue-1/b-1", "beacon-rotate/venue-1/b-2"}, ids)
	assert.Equal(t, "beacon rotation summary", lines[2]["msg"])
	assert.EqualValues(t, 1, lines[2]["rotated"], "b-2, new")
	assert.EqualValues(t, 1, lines[2]["recovered"], "b-1, claimed by the failed first run, finished now")

	out.Reset()
	require.Equal(t, 0, run(nil, envOf(env), &out, &errOut))
	lines = logLines(t, out.String())
	require.Len(t, lines, 1, "a re-run only summarises:\n%s", out.String())
	assert.EqualValues(t, 0, lines[0]["scanned"])

	st, err := js.Stream(ctx, edge.StreamBeacons)
	require.NoError(t, err)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, info.State.Msgs, "two rotations, one message each")
}
