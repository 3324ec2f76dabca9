// Package observability holds what the observability stack ships besides
// Helm values: the brand palette and its accessibility check, dashboards
// built as code, Grafana datasource provisioning, and the platform alert
// rules (checked by promtool in `make test`).
package observability

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Spatial Properties brand colours.
const (
	Teal   = "#02b0ad" // primary
	Pink   = "#f1456d" // accent
	Orange = "#fe8305" // accent
)

// Grafana dark theme surfaces the brand colours are drawn on.
const (
	DarkCanvas = "#111217" // page background
	DarkPanel  = "#181b1f" // panel background: what text and series sit on
	White      = "#ffffff" // the light theme's panel background
)

// WCAG 2.x minimum contrast ratios (level AA).
const (
	MinTextContrast    = 4.5 // normal text
	MinGraphicContrast = 3.0 // graphical objects: lines, bars, icons
)

// Palette is every brand colour with how it is used on the dashboards.
var Palette = []Use{
	{Name: "teal (primary)", Color: Teal, Text: true},
	{Name: "pink (accent)", Color: Pink, Text: true},
	{Name: "orange (accent)", Color: Orange, Text: true},
}

// Use is one brand colour; Text is true when it also colours text (stat
// values, legends), which needs the higher ratio.
type Use struct {
	Name  string
	Color string
	Text  bool
}

// Luminance is the WCAG relative luminance of an sRGB "#rrggbb" colour.
func Luminance(hex string) (float64, error) {
	h := strings.TrimPrefix(hex, "#")
	if len(h) != 6 {
		return 0, fmt.Errorf("colour %q: want #rrggbb", hex)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("colour %q: %w", hex, err)
	}
	channel := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	r, g, b := channel(v>>16&0xff), channel(v>>8&0xff), channel(v&0xff)
	return 0.2126*r + 0.7152*g + 0.0722*b, nil
}

// Contrast is the WCAG contrast ratio of two colours, from 1 to 21.
func Contrast(a, b string) (float64, error) {
	la, err := Luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := Luminance(b)
	if err != nil {
		return 0, err
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), nil
}

// CheckPalette returns one error per brand colour that is too faint on
// background: below 4.5:1 where it colours text, below 3:1 for graphics.
func CheckPalette(palette []Use, background string) []error {
	var errs []error
	for _, u := range palette {
		ratio, err := Contrast(u.Color, background)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		min := MinGraphicContrast
		if u.Text {
			min = MinTextContrast
		}
		if ratio < min {
			errs = append(errs, fmt.Errorf("%s %s on %s has contrast %.2f:1, below the %.1f:1 WCAG AA minimum", u.Name, u.Color, background, ratio, min))
		}
	}
	return errs
}
