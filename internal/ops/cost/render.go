package cost

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText prints a table per stack, the total, the usage-priced items with
// their unit prices and assumptions, and every unpriced resource type.
func (e *Estimate) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Monthly estimate for %s (USD, on-demand unless a line says Spot, %d h/month)\nPrices: %s\n\n", e.Env, HoursPerMonth, e.Source)
	unconfirmed := false
	for _, st := range e.Stacks {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "%s\n", st.ID)
		for _, l := range st.Lines {
			mark := ""
			if l.Unconfirmed {
				mark, unconfirmed = " *", true
			}
			fmt.Fprintf(tw, "  %s\t  %s\t%10.2f%s\t\n", l.Resource, l.Detail, l.Monthly, mark)
		}
		fmt.Fprintf(tw, "  subtotal\t\t%10.2f\t\n", st.Subtotal)
		tw.Flush()
		var notes []string
		if st.Free > 0 {
			notes = append(notes, fmt.Sprintf("%d resources without a charge of their own", st.Free))
		}
		if len(st.Usage) > 0 {
			notes = append(notes, "usage-priced: "+counts(st.Usage))
		}
		if len(st.Unpriced) > 0 {
			notes = append(notes, "UNPRICED: "+counts(st.Unpriced))
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "  (%s)\n", strings.Join(notes, "; "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "TOTAL fixed monthly: %.2f USD\n", e.Total)
	if unconfirmed {
		fmt.Fprintln(w, "* rate without a machine-readable source (typed from the price page); see its note in internal/ops/cost/prices.go")
	}
	fmt.Fprintln(w, "\nUsage-priced (not in the total; unit prices and the assumption to apply):")
	var keys []string
	for k := range e.Usage {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, u := range e.Usage[k] {
			fmt.Fprintf(w, "  - %s: %.5g USD/%s (%s)\n", u.What, u.USD, u.Unit, u.Assumption)
		}
	}
	if len(e.Unpriced) > 0 {
		fmt.Fprintf(w, "\nUNPRICED resource types (add them to internal/ops/cost/prices.go): %s\n", strings.Join(e.Unpriced, ", "))
	}
}

func counts(m map[string]int) string {
	var parts []string
	for t, n := range m {
		parts = append(parts, fmt.Sprintf("%s ×%d", t, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// WriteSummary prints one line per stack and the total: the short form for
// READMEs and chat.
func (e *Estimate) WriteSummary(w io.Writer) {
	for _, st := range e.Stacks {
		flag := ""
		if len(st.Unpriced) > 0 {
			flag = "  (UNPRICED: " + counts(st.Unpriced) + ")"
		}
		fmt.Fprintf(w, "%-20s %10.2f%s\n", st.ID, st.Subtotal, flag)
	}
	fmt.Fprintf(w, "%-20s %10.2f USD/month fixed; usage-priced items: run without --summary\n", "TOTAL", e.Total)
}
