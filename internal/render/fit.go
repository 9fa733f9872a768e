package render

import (
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"
)

// minColumn is the narrowest a column is squeezed to (unless its header
// is wider): below it a word breaks on nearly every line.
const minColumn = 8

// terminalWidth is the width of the terminal f draws on, or $COLUMNS, or 0
// when neither is known.
func terminalWidth(fd int) int {
	if w, _, err := term.GetSize(fd); err == nil && w > 0 {
		return w
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// fit makes a boxed table ("│ a │ b │": each column costs its width plus
// three) at most width columns wide, as the checkout does: first the
// widest columns give up width, one column at a time, down to their
// header's longest part (headers break after an underscore) or minColumn;
// their text wraps at spaces (a word longer than the column breaks). If
// that is not enough, the rightmost columns are left out, and hidden names
// them. width 0 leaves the table as it is.
func fit(header []string, rows [][]string, width int) (h []string, r [][]string, hidden []string) {
	n := len(header)
	if width <= 0 || n == 0 {
		return header, rows, nil
	}
	// whole is each column's width as it is; natural the same with the
	// header broken after its underscores (headers break first); least the
	// narrowest a column is squeezed to.
	whole, natural, least := make([]int, n), make([]int, n), make([]int, n)
	for _, r := range rows {
		for i, c := range r {
			if i < n {
				natural[i] = max(natural[i], cellWidth(c))
			}
		}
	}
	for i, name := range header {
		whole[i] = max(natural[i], runewidth.StringWidth(name))
		part := 0
		for p := range strings.SplitAfterSeq(name, "_") {
			part = max(part, runewidth.StringWidth(p))
		}
		natural[i] = max(natural[i], part)
		least[i] = min(natural[i], max(part, minColumn))
	}
	if sum(whole)+3*n+1 <= width {
		return header, rows, nil
	}
	for n > 1 && sum(least[:n])+3*n+1 > width {
		n--
	}
	hidden = header[n:]
	widths := slices.Clone(natural[:n])
	for sum(widths)+3*n+1 > width {
		widest := -1
		for i, w := range widths {
			if w > least[i] && (widest < 0 || w > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
	}
	wrapRow := func(r []string, header bool) []string {
		out := make([]string, n)
		for i := range out {
			if i < len(r) {
				out[i] = wrap(r[i], widths[i], header)
			}
		}
		return out
	}
	r = make([][]string, len(rows))
	for i, row := range rows {
		r[i] = wrapRow(row, false)
	}
	return wrapRow(header, true), r, hidden
}

func sum(ws []int) int {
	t := 0
	for _, w := range ws {
		t += w
	}
	return t
}

// cellWidth is the display width of a cell's widest line.
func cellWidth(s string) int {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, runewidth.StringWidth(line))
	}
	return w
}

// wrap breaks s into lines of at most width display columns, at spaces
// (a header after its underscores) where it can.
func wrap(s string, width int, header bool) string {
	if cellWidth(s) <= width {
		return s
	}
	var out []string
	for para := range strings.SplitSeq(s, "\n") {
		line, words, sep := "", strings.Fields(para), " "
		if header {
			words, sep = strings.SplitAfter(para, "_"), ""
		}
		for _, word := range words {
			for runewidth.StringWidth(word) > width { // a word longer than the column breaks
				if line != "" {
					out, line = append(out, line), ""
				}
				head := runewidth.Truncate(word, width, "")
				out, word = append(out, head), word[len(head):]
			}
			switch {
			case line == "":
				line = word
			case runewidth.StringWidth(line)+len(sep)+runewidth.StringWidth(word) <= width:
				line += sep + word
			default:
				out, line = append(out, line), word
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
