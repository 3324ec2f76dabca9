package constructs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func boundaryProps() *WorkloadBoundaryProps {
	return &WorkloadBoundaryProps{
		Name: "spatialprops-dev-workload-boundary", StateBucket: "tfstate-spatialprops-dev-ap-southeast-2",
		LockTableArn:  "arn:aws:dynamodb:ap-southeast-2:111122223333:table/tf-lock-spatialprops-dev-ap-southeast-2",
		StateKeyAlias: "alias/spatialprops-dev-tfstate",
		Allow: []Statement{{Sid: "Envelopes", Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::spatial-dtn-x/*"}},
			{Sid: "Network", Actions: []string{"ec2:*"}, Resources: []string{"*"}}},
		WholeServices: []string{"ec2"},
	}
}

func TestWorkloadBoundaryFencesOffTheStateStore(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewWorkloadBoundary(stack, "boundary", boundaryProps())
	require.NoError(t, err)
	doc := synth(t, stack)
	assert.Equal(t, "spatialprops-dev-workload-boundary", one(t, doc, "aws_iam_policy").Get("name").String())

	// what the stack allows is what the boundary allows
	assert.Equal(t, []string{"arn:aws:s3:::spatial-dtn-x/*"}, strs(statementBySid(t, doc, "Envelopes").Get("resources")))
	assert.Contains(t, statementBySid(t, doc, "WorkloadLinkedRoles").Get("condition").String(), "iam:AWSServiceName")
	// and whatever a role's own policy says, never the state store
	store := statementBySid(t, doc, "NeverTheStateStore")
	assert.Equal(t, "Deny", store.Get("effect").String())
	assert.ElementsMatch(t, []string{
		"arn:aws:s3:::tfstate-spatialprops-dev-ap-southeast-2", "arn:aws:s3:::tfstate-spatialprops-dev-ap-southeast-2/*",
		"arn:aws:dynamodb:ap-southeast-2:111122223333:table/tf-lock-spatialprops-dev-ap-southeast-2",
	}, strs(store.Get("resources")))
	key := statementBySid(t, doc, "NeverTheStateKey")
	assert.Equal(t, "Deny", key.Get("effect").String())
	assert.Contains(t, key.Get("condition").String(), "alias/spatialprops-dev-tfstate")
}

func TestWorkloadBoundaryRefusesGrantsThatBoundNothing(t *testing.T) {
	_, err := NewWorkloadBoundary(newTestStack(t), "boundary", &WorkloadBoundaryProps{Name: "x"})
	require.EqualError(t, err, "boundary: name, allow, stateBucket, lockTableArn and stateKeyAlias are required")

	for action, want := range map[string]string{
		"s3:*":             "boundary: allow[0] (Bad): s3:* is a whole service; list the actions the workloads call",
		"iam:PassRole":     "boundary: allow[0] (Bad): iam:PassRole cannot be granted through the boundary",
		"sts:AssumeRole":   "boundary: allow[0] (Bad): sts:AssumeRole cannot be granted through the boundary",
		"*":                "boundary: allow[0] (Bad): * cannot be granted through the boundary",
		"secretsmanager:*": "boundary: allow[0] (Bad): secretsmanager:* is a whole service; list the actions the workloads call",
	} {
		p := boundaryProps()
		p.Allow = []Statement{{Sid: "Bad", Actions: []string{action}, Resources: []string{"*"}}}
		_, err := NewWorkloadBoundary(newTestStack(t), "boundary", p)
		assert.EqualError(t, err, want, action)
	}
}
