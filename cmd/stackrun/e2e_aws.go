package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// aws runs the AWS CLI against the emulator and decodes its JSON answer.
func (e *e2e) aws(out any, args ...string) error {
	cmd := exec.Command("aws", append(args, "--output", "json")...)
	cmd.Env = e.tfEnv
	var stdoutBuf, stderrBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdoutBuf, &stderrBuf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("aws %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderrBuf.String()))
	}
	if out == nil || stdoutBuf.Len() == 0 {
		return nil
	}
	return json.Unmarshal(stdoutBuf.Bytes(), out)
}

// createZones creates the public hosted zones the stacks look up by name.
// They stand for the guide's prerequisite "domain control": a real account
// has the zone before the first deploy.
func (e *e2e) createZones() error {
	start := time.Now()
	zones := map[string]bool{}
	for _, st := range e.stacks {
		raw, err := os.ReadFile(filepath.Join(st.Dir, "cdk.tf.json"))
		if err != nil {
			return err
		}
		var doc struct {
			Data struct {
				Zones map[string]struct {
					Name string `json:"name"`
				} `json:"aws_route53_zone"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return err
		}
		for _, z := range doc.Data.Zones {
			zones[z.Name] = true
		}
	}
	var names []string
	for z := range zones {
		if err := e.aws(nil, "route53", "create-hosted-zone", "--name", z, "--caller-reference", "e2e-"+z); err != nil {
			return err
		}
		names = append(names, z)
	}
	sort.Strings(names)
	e.add(terraform.Step{Stack: e.env, Phase: "fixture", Took: time.Since(start), OK: true,
		Detail: "public hosted zone(s) the stacks look up: " + strings.Join(names, ", ")})
	return nil
}

// leftovers lists what still carries this env's tags after the destroys.
// Only the state stack's resources may remain: they are protected.
func (e *e2e) leftovers() (string, error) {
	var kept, left []string
	for _, region := range e.regions() {
		var res struct {
			ResourceTagMappingList []struct {
				ResourceARN string
				Tags        []struct{ Key, Value string }
			}
		}
		if err := e.aws(&res, "resourcegroupstaggingapi", "get-resources", "--region", region,
			"--tag-filters", "Key=Environment,Values="+e.env); err != nil {
			return "", err
		}
		for _, r := range res.ResourceTagMappingList {
			service := ""
			for _, t := range r.Tags {
				if t.Key == "Service" {
					service = t.Value
				}
			}
			if service == "state" {
				kept = append(kept, r.ResourceARN)
				continue
			}
			left = append(left, fmt.Sprintf("%s (Service=%s)", r.ResourceARN, service))
		}
	}
	var buckets struct{ Buckets []struct{ Name string } }
	if err := e.aws(&buckets, "s3api", "list-buckets"); err != nil {
		return "", err
	}
	for _, b := range buckets.Buckets {
		if !strings.HasPrefix(b.Name, "tfstate-") {
			left = append(left, "s3://"+b.Name)
		}
	}
	if len(left) > 0 {
		sort.Strings(left)
		return "", fmt.Errorf("%d resource(s) survived their stack's destroy:\n  %s", len(left), strings.Join(left, "\n  "))
	}
	return fmt.Sprintf("nothing left but the protected state stack (%d tagged resources)", len(kept)), nil
}

// regions are the regions the stacks' providers use.
func (e *e2e) regions() []string {
	seen := map[string]bool{}
	for _, st := range e.stacks {
		raw, _ := os.ReadFile(filepath.Join(st.Dir, "cdk.tf.json"))
		var doc struct {
			Provider struct {
				AWS []struct {
					Region string `json:"region"`
				} `json:"aws"`
			} `json:"provider"`
		}
		_ = json.Unmarshal(raw, &doc)
		for _, p := range doc.Provider.AWS {
			if p.Region != "" {
				seen[p.Region] = true
			}
		}
	}
	var out []string
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// emptyBuckets deletes every object version and delete marker of the
// buckets a stack defines, as the guide's cleanup does before deleting
// them: S3 refuses to delete a bucket that is not empty (the logs bucket
// fills with access logs the moment the others are used).
func (e *e2e) emptyBuckets(st terraform.Stack) (int, error) {
	raw, err := os.ReadFile(filepath.Join(st.Dir, "cdk.tf.json"))
	if err != nil {
		return 0, err
	}
	var doc struct {
		Resource struct {
			Buckets map[string]struct {
				Bucket string `json:"bucket"`
			} `json:"aws_s3_bucket"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, err
	}
	deleted := 0
	for _, b := range doc.Resource.Buckets {
		for {
			var page struct {
				Versions      []struct{ Key, VersionId string }
				DeleteMarkers []struct{ Key, VersionId string }
			}
			if err := e.aws(&page, "s3api", "list-object-versions", "--bucket", b.Bucket, "--max-items", "500"); err != nil {
				if strings.Contains(err.Error(), "NoSuchBucket") {
					break
				}
				return deleted, err
			}
			type object struct{ Key, VersionId string }
			var objects []object
			for _, v := range page.Versions {
				objects = append(objects, object(v))
			}
			for _, m := range page.DeleteMarkers {
				objects = append(objects, object(m))
			}
			if len(objects) == 0 {
				break
			}
			body, _ := json.Marshal(map[string]any{"Objects": objects, "Quiet": true})
			if err := e.aws(nil, "s3api", "delete-objects", "--bucket", b.Bucket, "--delete", string(body)); err != nil {
				return deleted, err
			}
			deleted += len(objects)
		}
	}
	return deleted, nil
}
