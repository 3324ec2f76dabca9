package constructs

// LoadBalancerControllerVersion is the controller release whose upstream
// IAM policy (docs/install/iam_policy.json) is transcribed below; it is
// unchanged from v2.17.1 to v3.5.0. Re-transcribe it when the chart's app
// version moves past a policy change.
const LoadBalancerControllerVersion = "v3.5.0"

// LoadBalancerControllerStatements is the AWS Load Balancer Controller's
// upstream IAM policy as typed statements. Its conditions keep write access
// to load balancers, target groups and security groups the controller
// created itself (tagged elbv2.k8s.aws/cluster).
func LoadBalancerControllerStatements() []Statement {
	return []Statement{
		{
			Sid:       "Upstream01",
			Actions:   []string{"iam:CreateServiceLinkedRole"},
			Resources: []string{"*"},
			Conditions: []Condition{
				{Test: "StringEquals", Variable: "iam:AWSServiceName", Values: []string{"elasticloadbalancing.amazonaws.com"}},
			},
		},
		{
			Sid:       "Upstream02",
			Actions:   []string{"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools", "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeCapacityReservation"},
			Resources: []string{"*"},
		},
		{
			Sid:       "Upstream03",
			Actions:   []string{"cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate", "iam:ListServerCertificates", "iam:GetServerCertificate", "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL", "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection"},
			Resources: []string{"*"},
		},
		{
			Sid:       "Upstream04",
			Actions:   []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"},
			Resources: []string{"*"},
		},
		{
			Sid:       "Upstream05",
			Actions:   []string{"ec2:CreateSecurityGroup"},
			Resources: []string{"*"},
		},
		{
			Sid:       "Upstream06",
			Actions:   []string{"ec2:CreateTags"},
			Resources: []string{"arn:aws:ec2:*:*:security-group/*"},
			Conditions: []Condition{
				{Test: "StringEquals", Variable: "ec2:CreateAction", Values: []string{"CreateSecurityGroup"}},
				{Test: "Null", Variable: "aws:RequestTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream07",
			Actions:   []string{"ec2:CreateTags", "ec2:DeleteTags"},
			Resources: []string{"arn:aws:ec2:*:*:security-group/*"},
			Conditions: []Condition{
				{Test: "Null", Variable: "aws:RequestTag/elbv2.k8s.aws/cluster", Values: []string{"true"}},
				{Test: "Null", Variable: "aws:ResourceTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream08",
			Actions:   []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"},
			Resources: []string{"*"},
			Conditions: []Condition{
				{Test: "Null", Variable: "aws:ResourceTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream09",
			Actions:   []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"},
			Resources: []string{"*"},
			Conditions: []Condition{
				{Test: "Null", Variable: "aws:RequestTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream10",
			Actions:   []string{"elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"},
			Resources: []string{"*"},
		},
		{
			Sid:       "Upstream11",
			Actions:   []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			Resources: []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*"},
			Conditions: []Condition{
				{Test: "Null", Variable: "aws:RequestTag/elbv2.k8s.aws/cluster", Values: []string{"true"}},
				{Test: "Null", Variable: "aws:ResourceTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream12",
			Actions:   []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			Resources: []string{"arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*", "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*"},
		},
		{
			Sid:       "Upstream13",
			Actions:   []string{"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools"},
			Resources: []string{"*"},
			Conditions: []Condition{
				{Test: "Null", Variable: "aws:ResourceTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream14",
			Actions:   []string{"elasticloadbalancing:AddTags"},
			Resources: []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*"},
			Conditions: []Condition{
				{Test: "StringEquals", Variable: "elasticloadbalancing:CreateAction", Values: []string{"CreateTargetGroup", "CreateLoadBalancer"}},
				{Test: "Null", Variable: "aws:RequestTag/elbv2.k8s.aws/cluster", Values: []string{"false"}},
			},
		},
		{
			Sid:       "Upstream15",
			Actions:   []string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"},
			Resources: []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"},
		},
		{
			Sid:       "Upstream16",
			Actions:   []string{"elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities"},
			Resources: []string{"*"},
		},
	}
}
