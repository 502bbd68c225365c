package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script, no third-party
// asset, readable in print and without JavaScript. Every chart is
// decorative beside the table of its numbers (aria-hidden), which is what
// screen readers read.

type chartBar struct {
	Label string
	Value int64
	// Text is what is written beside the bar ("< 5" for a small count).
	Text string
}

const (
	chartWidth  = 640
	barHeight   = 22
	labelWidth  = 220
	valueMargin = 70
)

// barChart draws one horizontal bar per row, scaled to the largest.
func barChart(title string, bars []chartBar) template.HTML {
	if len(bars) == 0 {
		return ""
	}
	var top int64 = 1
	for _, b := range bars {
		top = max(top, b.Value)
	}
	h := len(bars)*barHeight + 8
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" role="img" aria-hidden="true" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet">`, chartWidth, h)
	fmt.Fprintf(&sb, `<title>%s</title>`, html.EscapeString(title))
	span := float64(chartWidth - labelWidth - valueMargin)
	for i, b := range bars {
		y := 4 + i*barHeight
		w := float64(b.Value) / float64(top) * span
		if b.Value > 0 && w < 2 {
			w = 2
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="13" text-anchor="end" fill="#1d2430">%s</text>`,
			labelWidth-8, y+15, html.EscapeString(shorten(b.Label, 32)))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#1f5f8b"></rect>`, labelWidth, y+3, w, barHeight-6)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="13" fill="#1d2430">%s</text>`,
			float64(labelWidth)+w+6, y+15, html.EscapeString(b.Text))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every text above is escaped
}

// columnChart draws one vertical bar per row (months of a trend).
func columnChart(title string, bars []chartBar) template.HTML {
	if len(bars) == 0 {
		return ""
	}
	var top int64 = 1
	for _, b := range bars {
		top = max(top, b.Value)
	}
	const height, base, labels = 220, 180, 40
	colW := float64(chartWidth-40) / float64(len(bars))
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" role="img" aria-hidden="true" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet">`, chartWidth, height+labels-20)
	fmt.Fprintf(&sb, `<title>%s</title>`, html.EscapeString(title))
	fmt.Fprintf(&sb, `<line x1="20" y1="%d" x2="%d" y2="%d" stroke="#5a6473"></line>`, base, chartWidth-20, base)
	for i, b := range bars {
		x := 20 + float64(i)*colW
		hgt := float64(b.Value) / float64(top) * (base - 30)
		if b.Value > 0 && hgt < 2 {
			hgt = 2
		}
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f5f8b"></rect>`,
			x+colW*0.15, base-hgt, colW*0.7, hgt)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#1d2430">%s</text>`,
			x+colW/2, base-hgt-4, html.EscapeString(b.Text))
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#5a6473">%s</text>`,
			x+colW/2, base+16, html.EscapeString(b.Label))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // every text above is escaped
}

// shorten cuts a label to n characters.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
