package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// styles are written in full colour; bubbletea downsamples them to what the
// terminal can show (none under NO_COLOR or TERM=dumb). Selection is also
// marked with a ›, so it shows without colour.
var styles = struct {
	title, tabOn, tabOff, selected, good, bad, warn, notice, help, dim lipgloss.Style
}{
	title:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FF6FA8")),
	tabOn:    lipgloss.NewStyle().Bold(true).Reverse(true),
	tabOff:   lipgloss.NewStyle().Faint(true),
	selected: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#5FD7FF")),
	good:     lipgloss.NewStyle().Foreground(lipgloss.Color("#5FD75F")),
	bad:      lipgloss.NewStyle().Foreground(lipgloss.Color("#FF5F5F")),
	warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("#FFD75F")),
	notice:   lipgloss.NewStyle().Foreground(lipgloss.Color("#AFAFAF")),
	help:     lipgloss.NewStyle().Faint(true),
	dim:      lipgloss.NewStyle().Faint(true),
}

// clip cuts s to w terminal columns (Hangul takes two).
func clip(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, max(w, 1), "…")
}

// cell fits s to exactly w columns: cut with … or padded with spaces, on
// the left when right is set (numbers, money).
func cell(s string, w int, right bool) string {
	s = clip(s, w)
	pad := strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
	if right {
		return pad + s
	}
	return s + pad
}

// row joins cells of the given widths (negative: right-aligned) with a
// space; a column of width 0 was dropped for lack of room.
func row(widths []int, cells ...string) string {
	var out []string
	for i, c := range cells {
		if w := widths[i]; w != 0 {
			out = append(out, cell(c, abs(w), w < 0))
		}
	}
	return strings.Join(out, " ")
}

// column is one table column: its width (negative: right-aligned), the
// least it may shrink to (0: it may be dropped), and when it shrinks
// (lower first). The name column takes what is left, capped at nameCap.
type column struct {
	w, min, shrink int
	name           bool
}

const (
	// nameCap: a name column wider than this only spreads the row out (72
	// cells tell apart long names that start alike).
	nameCap = 72
	// nameMin: below this the id and SKU give way (the name tells products
	// and customers apart at a counter; a SKU is cut with a mark).
	nameMin = 20
)

// widths gives columns their widths in total columns: numbers keep theirs,
// the name gets the rest (at most nameCap); when the name would get less
// than nameMin, the shrinkable columns give way first (dropped at worst).
func widths(total int, cols []column) []int {
	out := make([]int, len(cols))
	name := -1
	used := 0
	for i, c := range cols {
		if c.name {
			name = i
			continue
		}
		out[i] = c.w
		used += abs(c.w) + 1
	}
	left := func() int { return total - used }
	for order := 0; order <= 3 && left() < nameMin; order++ {
		for i, c := range cols {
			if c.name || c.shrink != order || left() >= nameMin {
				continue
			}
			w := abs(out[i])
			give := min(w-c.min, nameMin-left())
			if c.min == 0 && w-give < 4 { // a sliver shows only "…": drop the column
				give = w
			}
			nw := w - give
			if nw == 0 {
				used -= w + 1
			} else {
				used -= give
			}
			if out[i] < 0 {
				nw = -nw
			}
			out[i] = nw
		}
	}
	if name >= 0 {
		out[name] = min(max(left(), 1), nameCap)
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// line renders one list line, marked and styled when selected.
func line(text string, selected bool) string {
	if selected {
		return styles.selected.Render("› " + text)
	}
	return "  " + text
}

// window returns the range [from, to) of n items to show in h lines so that
// sel is visible.
func window(n, sel, h int) (from, to int) {
	h = max(h, 1)
	from = max(0, min(sel-h/2, n-h))
	return from, min(n, from+h)
}

// indented wraps s (at spaces only) under first, its further lines under
// rest: an item line keeps its quantity and price, its continuation
// visibly part of it.
func indented(s string, width int, first, rest string) []string {
	parts := strings.Split(wrap(s, width-ansi.StringWidth(rest)), "\n")
	for i := range parts {
		if i == 0 {
			parts[i] = first + parts[i]
		} else {
			parts[i] = rest + parts[i]
		}
	}
	return parts
}
