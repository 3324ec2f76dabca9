package crlsync

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faulty returns the job with S3 behind a fault injector and a short
// per-call deadline (500 ms, ample for moto on a busy machine), so a hang
// costs half a second.
func (e *env) faulty() (*Syncer, *faultyS3) {
	fs := &faultyS3{Client: e.s3, faults: map[string]fault{}}
	s := e.syncer(false)
	s.S3, s.CallTimeout = fs, 500*time.Millisecond
	return s, fs
}

// GIVEN an attached CRL, a newer one published, and the state object that
// cannot be written (a KMS or bucket-policy mistake, an S3 outage) WHEN the
// job runs every 10 minutes for five hours THEN every run fails, and the
// trust store still holds exactly its one list: the job never adds a list
// it could not record (the ALB refuses a 31st). Once the record can be
// written, the next run attaches the new CRL and removes the old one.
func TestStateWriteFailureNeverGrowsTheTrustStore(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)
	e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 101, 205))

	s, fs := e.faulty()
	fs.faults["PutObject "+StateKey] = refuse
	for run := 0; run < 30; run++ {
		_, err := s.Run(context.Background())
		require.Error(t, err, "run %d", run)
		assert.ErrorContains(t, err, "the list was not added")
		require.LessOrEqual(t, e.elb.count(), 1, "run %d: the trust store grew", run)
	}
	assert.Equal(t, []string{"add 1"}, e.elb.calls)
	assert.Equal(t, []string{"101"}, e.elb.revoked(), "the old list keeps refusing what it refused")

	delete(fs.faults, "PutObject "+StateKey)
	res, err := s.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, []string{"101", "205"}, e.elb.revoked())
	assert.Equal(t, 1, e.elb.count())
}

// GIVEN a newer CRL WHEN the add succeeds but its answer is lost (the
// connection fails half way) THEN the run fails; the next run recognises
// the list that add made (its id is not among those recorded before it),
// adds nothing and removes the old list.
func TestLostAddAnswerIsNotAddedTwice(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)
	e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 205))

	e.elb.faults = map[string]fault{"Add": loseAnswer}
	_, err = e.run(t)
	require.ErrorContains(t, err, "connection reset by peer")
	assert.Equal(t, 2, e.elb.count(), "the add happened; its answer was lost")

	e.elb.faults = nil
	res, err := e.run(t)
	require.NoError(t, err)
	assert.False(t, res.Changed, "the list is already there")
	assert.Equal(t, []int64{1}, res.RemovedID)
	assert.Equal(t, []string{"add 1", "add 2", "remove [1]"}, e.elb.calls, "no second add of the same CRL")
	assert.Equal(t, []string{"205"}, e.elb.revoked())

	_, st := e.get(t, StateKey)
	var state State
	require.NoError(t, json.Unmarshal(st, &state))
	assert.Equal(t, int64(2), state.RevocationID)
	assert.NotContains(t, string(st), "pending", "the record is finished")
}

// GIVEN a newer CRL WHEN everything works except the final state record
// THEN the trust store already holds only the new list; the next run adds
// and removes nothing and finishes the record (no churn).
func TestFinalRecordFailureIsFinishedWithoutChurn(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)
	e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 205))

	s, fs := e.faulty()
	fs.stateWrite = func(body []byte) fault {
		var st State
		_ = json.Unmarshal(body, &st)
		if st.RevocationID == 2 { // the record naming the new list
			return refuse
		}
		return none
	}
	_, err = s.Run(context.Background())
	require.ErrorContains(t, err, "record state")
	assert.Equal(t, []string{"205"}, e.elb.revoked())

	fs.stateWrite = nil
	for range 3 {
		res, err := s.Run(context.Background())
		require.NoError(t, err)
		assert.False(t, res.Changed)
	}
	assert.Equal(t, []string{"add 1", "add 2", "remove [1]"}, e.elb.calls)
}

// GIVEN each AWS call of a run in turn refusing the connection, never
// answering, or failing half way WHEN the job runs THEN the run ends within
// its per-call deadline (not the run's), with an error; and a rerun once
// the fault is gone leaves exactly one list, the current CRL's.
func TestEveryCallUnderFaultsEndsAndConverges(t *testing.T) {
	type inject func(e *env, fs *faultyS3, f fault)
	elb := func(m string) inject {
		return func(e *env, _ *faultyS3, f fault) { e.elb.faults = map[string]fault{m: f} }
	}
	s3f := func(m, key string) inject {
		return func(_ *env, fs *faultyS3, f fault) { fs.faults[m+" "+key] = f }
	}
	calls := map[string]inject{
		"S3 GetObject CRL":       s3f("GetObject", crlKey),
		"S3 GetObject CA bundle": s3f("GetObject", CABundleKey),
		"S3 GetObject state":     s3f("GetObject", StateKey),
		"S3 PutObject PEM":       s3f("PutObject", "trust/crl/2.pem"),
		"S3 PutObject state":     s3f("PutObject", StateKey),
		"ELB Describe":           elb("Describe"),
		"ELB Add":                elb("Add"),
		"ELB Remove":             elb("Remove"),
	}
	for name, in := range calls {
		for _, f := range []fault{refuse, hang, loseAnswer} {
			if f == loseAnswer && name == "ELB Describe" {
				continue // a read: losing its answer is the same as refusing it
			}
			t.Run(name+"/"+[]string{"", "closed", "never answers", "half way"}[f], func(t *testing.T) {
				e := newEnv(t)
				e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
				_, err := e.run(t)
				require.NoError(t, err)
				e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 205))

				s, fs := e.faulty()
				in(e, fs, f)
				start := time.Now()
				_, err = s.Run(context.Background())
				assert.Less(t, time.Since(start), 3*time.Second, "bounded by the 500 ms call deadline")
				require.Error(t, err)
				assert.LessOrEqual(t, e.elb.count(), 2, "never more than the old and the new list")

				e.elb.faults = map[string]fault{}
				fs.faults = map[string]fault{}
				for range 2 {
					_, err = s.Run(context.Background())
					require.NoError(t, err)
				}
				assert.Equal(t, 1, e.elb.count(), "converged to one list")
				assert.Equal(t, []string{"205"}, e.elb.revoked(), "the current CRL's")
			})
		}
	}
}

// GIVEN poison input (the CRL object is not a CRL; the state record is not
// JSON) THEN a garbage CRL is refused with nothing changed, and a garbage
// record is treated as none: the run attaches the current CRL and removes
// every other list, ending with exactly one.
func TestPoisonInputIsRefusedOrRepaired(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)

	e.put(t, crlKey, []byte("<html>503 Service Unavailable</html>"))
	_, err = e.run(t)
	require.ErrorIs(t, err, ErrRefused)
	assert.ErrorContains(t, err, "not a DER CRL")
	assert.Equal(t, []string{"add 1"}, e.elb.calls, "nothing changes")

	e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 205))
	e.put(t, StateKey, []byte("{not json"))
	res, err := e.run(t)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, 1, e.elb.count())
	assert.Equal(t, []string{"205"}, e.elb.revoked())
	assert.Contains(t, e.logs.String(), "unreadable state record")
}
