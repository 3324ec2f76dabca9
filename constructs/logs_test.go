package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogsKeyIsScopedToItsLogGroups(t *testing.T) {
	stack := newTestStack(t)
	key, err := NewLogsKey(stack, "logs-key", &LogsKeyProps{
		Alias: "alias/x-logs", Region: "ap-southeast-2", AccountID: jsii.String("111122223333"), LogGroupNames: []string{"/aws/x"},
	})
	require.NoError(t, err)
	_, err = NewLogGroup(stack, "group", &LogGroupProps{Name: "/aws/x", RetentionDays: 30, KmsKeyArn: key, Protect: true})
	require.NoError(t, err)
	doc := synth(t, stack)

	// The regional CloudWatch Logs principal may use the key, but only for
	// the named log group (encryption context), so no other group in the
	// account can borrow it.
	s := statementBySid(t, doc, "AllowCloudWatchLogsForTheseLogGroups")
	assert.Equal(t, []string{"logs.ap-southeast-2.amazonaws.com"}, strs(s.Get("principals.0.identifiers")))
	assert.Equal(t, "kms:EncryptionContext:aws:logs:arn", s.Get("condition.0.variable").String())
	assert.Equal(t, []string{"arn:aws:logs:ap-southeast-2:111122223333:log-group:/aws/x"}, strs(s.Get("condition.0.values")))

	g := one(t, doc, "aws_cloudwatch_log_group")
	assert.Contains(t, g.Get("kms_key_id").String(), "aws_kms_key.")
	assert.True(t, g.Get("lifecycle.prevent_destroy").Bool(), "protected log groups survive a destroy")
}

func TestLogGroupRefusesServiceOwnedEncryption(t *testing.T) {
	_, err := NewLogGroup(newTestStack(t), "group", &LogGroupProps{Name: "/aws/x", RetentionDays: 30})
	require.EqualError(t, err, "group: kmsKeyArn is required; log groups are encrypted with a logs CMK (NewLogsKey)")
}

func TestEksClusterShipsLogsUnderACmkAndIsProtected(t *testing.T) {
	stack := newTestStack(t)
	p := clusterProps()
	p.Protect = true
	_, err := NewEksCluster(stack, "eks", p)
	require.NoError(t, err)
	doc := synth(t, stack)
	c := one(t, doc, "aws_eks_cluster")
	// default: all five control-plane logs
	assert.Equal(t, []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}, strs(c.Get("enabled_cluster_log_types")))
	assert.True(t, c.Get("lifecycle.prevent_destroy").Bool(), "a protected cluster is never destroyed by a plan")
	lg := one(t, doc, "aws_cloudwatch_log_group")
	assert.Contains(t, lg.Get("kms_key_id").String(), "aws_kms_key.")
	assert.True(t, lg.Get("lifecycle.prevent_destroy").Bool())

	p = clusterProps()
	p.LogTypes = []string{"api", "kubelet"}
	_, err = NewEksCluster(newTestStack(t), "eks", p)
	require.EqualError(t, err, `eks: logTypes[1]="kubelet" is not an EKS log type; use [api audit authenticator controllerManager scheduler]`)
}
