package observability

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContrastMatchesKnownValues(t *testing.T) {
	// Anchors from the WCAG definition: black on white is 21:1, a colour on
	// itself 1:1, and #767676 on white is the classic 4.54:1 grey.
	for _, tc := range []struct {
		a, b string
		want float64
	}{{"#000000", "#ffffff", 21}, {Teal, Teal, 1}, {"#767676", "#ffffff", 4.54}} {
		got, err := Contrast(tc.a, tc.b)
		require.NoError(t, err)
		assert.InDelta(t, tc.want, got, 0.01, "%s on %s", tc.a, tc.b)
	}
	_, err := Contrast("teal", White)
	require.Error(t, err)
}

func TestBrandPaletteIsReadableOnTheDarkTheme(t *testing.T) {
	// The dashboards draw brand colours on Grafana's dark panels and page.
	assert.Empty(t, CheckPalette(Palette, DarkPanel))
	assert.Empty(t, CheckPalette(Palette, DarkCanvas))
}

func TestBrandPaletteFailsOnWhite(t *testing.T) {
	// The reason the default theme is dark: on white, every brand colour
	// is below 4.5:1 for text (teal 2.69, pink 3.61, orange 2.48), and teal
	// and orange are below even 3:1 for lines and bars.
	errs := CheckPalette(Palette, White)
	require.Len(t, errs, 3)
	assert.Equal(t, "teal (primary) #02b0ad on #ffffff has contrast 2.69:1, below the 4.5:1 WCAG AA minimum", errs[0].Error())
	graphics := []Use{{Name: "teal", Color: Teal}, {Name: "pink", Color: Pink}, {Name: "orange", Color: Orange}}
	errs = CheckPalette(graphics, White)
	require.Len(t, errs, 2, "pink passes 3:1 for graphics on white; teal and orange do not")
	assert.Contains(t, errs[1].Error(), "orange #fe8305 on #ffffff has contrast 2.48:1, below the 3.0:1")
}
