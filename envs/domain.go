package envs

import (
	"fmt"
	"regexp"
	"strings"
)

var labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// domainProblem explains why name cannot be used as written for an ACM
// certificate, a CloudFront alias or a Route53 record, with the fix; it
// returns "" for a usable name. Names are refused rather than normalized so
// that what the file says is exactly what ends up in AWS: a trailing dot
// ("spatial.properties.") is valid DNS but makes ACM and CloudFront see a
// different name than the zone records.
func domainProblem(name string) string {
	switch {
	case name == "" || !strings.Contains(strings.Trim(name, "."), "."):
		return fmt.Sprintf("%q must be a DNS domain you control, e.g. spatial.properties", name)
	case strings.HasSuffix(name, "."):
		return fmt.Sprintf("%q ends with a dot; write it without the trailing dot: %s", name, strings.TrimRight(name, "."))
	case name != strings.ToLower(name):
		return fmt.Sprintf("%q has uppercase letters; write it in lowercase: %s", name, strings.ToLower(name))
	case len(name) > 253:
		return fmt.Sprintf("%q is %d characters; DNS allows 253", name, len(name))
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return fmt.Sprintf("%q has an empty label (a leading dot or two dots in a row); remove the extra dot", name)
		}
		if !labelRe.MatchString(label) {
			return fmt.Sprintf("%q has the label %q; each label is 1 to 63 lowercase letters, digits and inner hyphens", name, label)
		}
	}
	return ""
}
