package envs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/awscatalog"
	"github.com/spatialprops/spatialprops-infra/internal/suggest"
)

// The checks here refuse values AWS itself would refuse at apply time,
// against the pinned catalogue in internal/awscatalog (regions from the AWS
// SDK's partition metadata; zones, instance type offerings and processor
// architectures from EC2), so a plan that looks fine never fails half way
// through a deploy.

// validateRegion reports whether region can be used; zones and instance
// types are only checked against a usable one.
func validateRegion(p *problems, c *Config) bool {
	cat := awscatalog.Default()
	if _, ok := cat.Partition(c.Region); !ok {
		p.add("region", "%q is not an AWS region%s (the region list of %s)", c.Region,
			or(suggest.DidYouMean(c.Region, cat.Regions()), "; use e.g. ap-southeast-2"), strings.Join(strings.Fields(cat.RegionsSource)[:2], " "))
		return false
	}
	if _, ok := cat.Zones(c.Region); !ok {
		p.add("region", "%s is an AWS region, but the pinned EC2 catalogue has no zones or instance types for it (not opted in when it was read); refresh it with `%s` from an account that has the region, or pick another region",
			c.Region, awscatalog.RefreshCommand)
		return false
	}
	return true
}

// isRegion reports whether name is a region of the pinned catalogue.
func isRegion(name string) bool {
	_, ok := awscatalog.Default().Partition(name)
	return ok
}

// validateZones checks each AZ letter against the region's zones.
func validateZones(p *problems, c *Config) {
	zones, _ := awscatalog.Default().Zones(c.Region)
	letters := strings.Split(zones, "")
	for i, az := range c.Network.AZs {
		if len(az) != 1 || strings.Contains(zones, az) {
			continue
		}
		unused := slices.DeleteFunc(slices.Clone(letters), func(l string) bool { return slices.Contains(c.Network.AZs, l) })
		hint := ""
		if len(unused) > 0 {
			hint = "; did you mean " + unused[0] + "?"
		}
		p.add(fmt.Sprintf("network.azs[%d]", i), "%q is not a zone of %s%s, which has %s%s",
			az, c.Region, from(p, "region"), strings.Join(letters, ", "), hint)
	}
}

// from says where a value came from when a session variable set it.
func from(p *problems, field string) string {
	if v, ok := p.over[field]; ok {
		return " (" + v + ")"
	}
	return ""
}

// validateInstanceType checks one node type: a real EC2 type, offered in
// the region and in every zone the node group spans, and runnable by the
// node group's x86_64 AMI.
func validateInstanceType(p *problems, c *Config, field, typ string, regionOK bool) {
	cat := awscatalog.Default()
	if !cat.IsInstanceType(typ) {
		candidates := cat.InstanceTypes()
		if regionOK {
			candidates = cat.TypesIn(c.Region)
		}
		p.add(field, "%q is not an EC2 instance type%s", typ, or(suggest.DidYouMean(typ, candidates), ", e.g. "+DefaultInstanceType))
		return
	}
	if archs := cat.Architectures(typ); len(archs) > 0 && !slices.Contains(archs, naming.NodeArchitecture) {
		p.add(field, "%q runs %s, but the node group's AMI (%s) needs %s; pick an %s type such as %s",
			typ, strings.Join(archs, "/"), naming.NodeAMIType, naming.NodeArchitecture, naming.NodeArchitecture, DefaultInstanceType)
		return
	}
	if !regionOK {
		return
	}
	offered := cat.OfferedIn(c.Region, typ)
	if offered == "" {
		p.add(field, "%q is not offered in %s%s%s", typ, c.Region, from(p, "region"), or(suggest.DidYouMean(typ, cat.TypesIn(c.Region)), ""))
		return
	}
	zones, _ := cat.Zones(c.Region)
	var missing []string
	for _, az := range c.Network.AZs {
		if len(az) == 1 && strings.Contains(zones, az) && !strings.Contains(offered, az) { // a zone the region lacks is reported once, on network.azs
			missing = append(missing, c.Region+az)
		}
	}
	if len(missing) > 0 {
		p.add(field, "%q is not offered in %s (only in %s%s); pick a type every zone of network.azs offers, or other zones",
			typ, strings.Join(missing, ", "), c.Region, strings.Join(strings.Split(offered, ""), ", "+c.Region))
	}
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

// tagValueRe is the alphabet AWS accepts in a tag value: letters, digits,
// spaces and _ . : / = + - @ (the Tagging API's documented pattern).
var tagValueRe = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// MaxTagValue is AWS's limit on a tag value, in Unicode characters.
const MaxTagValue = 256

// tagValueProblem explains why AWS would refuse v as a tag value, or "".
func tagValueProblem(v string) string {
	if n := utf8.RuneCountInString(v); n > MaxTagValue {
		return fmt.Sprintf("is %d characters; AWS tag values hold at most %d", n, MaxTagValue)
	}
	if !tagValueRe.MatchString(v) {
		var bad []string
		for _, r := range v {
			if s := string(r); !tagValueRe.MatchString(s) && !slices.Contains(bad, s) {
				bad = append(bad, s)
			}
		}
		return fmt.Sprintf("%q has %s, which AWS tag values do not allow; use letters, digits, spaces and _ . : / = + - @", v, quoteAll(bad))
	}
	return ""
}

func quoteAll(chars []string) string {
	q := make([]string, len(chars))
	for i, c := range chars {
		q[i] = fmt.Sprintf("%q", c)
	}
	return strings.Join(q, " ")
}
