package envs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // working-hours time zones validate without the host's zoneinfo
)

// Node capacity types (EKS managed node group capacity_type).
const (
	// CapacityOnDemand never interrupts a node: staging and prod.
	CapacityOnDemand = "ON_DEMAND"
	// CapacitySpot runs the nodes on spare EC2 capacity at a fraction of the
	// on-demand price; EC2 may reclaim a node with two minutes' notice.
	// envs/dev.yaml uses it (docs/cost.md).
	CapacitySpot = "SPOT"
)

// DevSpotInstanceTypes are the node types envs/dev.yaml runs on Spot:
// five x86_64 types with 2 vCPU and 8 GiB each, so the autoscaler sees one
// node shape while EC2 picks from five capacity pools (one reclaimed pool
// does not empty the group). x86_64 because the service images are built
// for linux/amd64 only (docs/cost.md, "Why not Graviton").
var DevSpotInstanceTypes = []string{"m6i.large", "m6a.large", "m5.large", "m7i-flex.large", "m7a.large"}

// MinSpotInstanceTypes is how many instance types a Spot node group needs.
const MinSpotInstanceTypes = 2

// WeekDays are the day names workingHours.days accepts, in cron's order.
var WeekDays = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// DefaultWorkingDays are the days nodes run when workingHours names none.
var DefaultWorkingDays = []string{"MON", "TUE", "WED", "THU", "FRI"}

// WorkingHours scales the node group to zero outside the given hours. The
// EKS control plane, volumes and everything stateful stay; pods are
// rescheduled when the nodes return. Only dev may set it: staging and prod
// alerts and devices need nodes around the clock.
type WorkingHours struct {
	// TimeZone is an IANA zone name, e.g. Australia/Perth. Required.
	TimeZone string `yaml:"timeZone"`
	// Days the nodes run, from SUN MON TUE WED THU FRI SAT. Default: MON to FRI.
	Days []string `yaml:"days"`
	// Start and End are "HH:MM" (24-hour clock) in TimeZone; Start is
	// before End. Nodes are scaled up at Start and to zero at End.
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

// WorkDays returns Days, or DefaultWorkingDays when none are named.
func (w WorkingHours) WorkDays() []string {
	if len(w.Days) == 0 {
		return append([]string(nil), DefaultWorkingDays...)
	}
	return append([]string(nil), w.Days...)
}

// Recurrences returns the scale-up and scale-down cron expressions
// (minute hour day-of-month month day-of-week) in TimeZone, e.g.
// "0 7 * * MON,TUE,WED,THU,FRI". Call it on a validated value.
func (w WorkingHours) Recurrences() (up, down string) {
	days := strings.Join(w.WorkDays(), ",")
	cron := func(hhmm string) string {
		var h, m int
		fmt.Sscanf(hhmm, "%d:%d", &h, &m)
		return fmt.Sprintf("%d %d * * %s", m, h, days)
	}
	return cron(w.Start), cron(w.End)
}

var hhmmRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func validateCapacity(p *problems, c *Config) {
	g := c.Cluster.NodeGroup
	switch g.CapacityType {
	case CapacityOnDemand:
	case CapacitySpot:
		if c.IsProd() {
			p.add("cluster.nodeGroup.capacityType", "SPOT is not allowed in prod: EC2 may reclaim a Spot node at two minutes' notice; use %s", CapacityOnDemand)
		}
		if len(g.InstanceTypes) < MinSpotInstanceTypes {
			p.add("cluster.nodeGroup.instanceTypes", "lists %d type(s); Spot needs at least %d of the same size (e.g. %s) so one reclaimed capacity pool does not empty the group",
				len(g.InstanceTypes), MinSpotInstanceTypes, strings.Join(DevSpotInstanceTypes[:3], ", "))
		}
	default:
		p.add("cluster.nodeGroup.capacityType", "%q is not a capacity type; use %s or %s", g.CapacityType, CapacityOnDemand, CapacitySpot)
	}
	w := g.WorkingHours
	if w == nil {
		return
	}
	const f = "cluster.nodeGroup.workingHours"
	if c.Env != "dev" {
		p.add(f, "is allowed only in dev; %s nodes must run around the clock (alerts, devices and rehearsals need them)", c.Env)
	}
	if w.TimeZone == "" {
		p.add(f+".timeZone", "is missing; name the IANA time zone the hours are in, e.g. Australia/Perth")
	} else if _, err := time.LoadLocation(w.TimeZone); err != nil || w.TimeZone == "Local" {
		p.add(f+".timeZone", "%q is not an IANA time zone name; use e.g. Australia/Perth or Australia/Sydney", w.TimeZone)
	}
	seen := map[string]bool{}
	for i, d := range w.Days {
		if !slices.Contains(WeekDays, d) || seen[d] {
			p.add(fmt.Sprintf("%s.days[%d]", f, i), "%q must be one of %s, each listed once", d, strings.Join(WeekDays, " "))
		}
		seen[d] = true
	}
	okStart, okEnd := hhmmRe.MatchString(w.Start), hhmmRe.MatchString(w.End)
	if !okStart {
		p.add(f+".start", "%q is not a 24-hour time HH:MM, e.g. \"07:00\"", w.Start)
	}
	if !okEnd {
		p.add(f+".end", "%q is not a 24-hour time HH:MM, e.g. \"19:00\"", w.End)
	}
	if okStart && okEnd && w.Start >= w.End {
		p.add(f+".end", "%s is not after start %s; nodes run from start to end of the same day", w.End, w.Start)
	}
}
