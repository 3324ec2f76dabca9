# S3: every bucket has default encryption, all four public-access-block
# settings and versioning, each declared in the same stack as the bucket.
package spatialprops

import rego.v1

bucket_ref(name) := sprintf("${aws_s3_bucket.%v.id}", [name])

configured(type, name) if {
	some cfg in input.resource[type]
	cfg.bucket == bucket_ref(name)
}

deny contains msg if {
	some name, _ in input.resource.aws_s3_bucket
	not configured("aws_s3_bucket_server_side_encryption_configuration", name)
	msg := sprintf("s3: bucket %v has no default encryption", [name])
}

deny contains msg if {
	some name, _ in input.resource.aws_s3_bucket
	not versioned(name)
	msg := sprintf("s3: bucket %v is not versioned", [name])
}

versioned(name) if {
	some v in input.resource.aws_s3_bucket_versioning
	v.bucket == bucket_ref(name)
	v.versioning_configuration.status == "Enabled"
}

deny contains msg if {
	some name, _ in input.resource.aws_s3_bucket
	not fully_blocked(name)
	msg := sprintf("s3: bucket %v lacks a public access block with all four settings on", [name])
}

fully_blocked(name) if {
	some p in input.resource.aws_s3_bucket_public_access_block
	p.bucket == bucket_ref(name)
	p.block_public_acls == true
	p.block_public_policy == true
	p.ignore_public_acls == true
	p.restrict_public_buckets == true
}
