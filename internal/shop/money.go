package shop

import (
	"math"
	"strconv"
	"strings"
)

// Won is an amount of Korean won. KRW has no minor unit, so money is an integer.
type Won int64

// MaxWon bounds any single price or total so sums of many lines cannot overflow int64.
const MaxWon Won = 1_000_000_000_000 // one trillion won

// String formats the amount with thousands separators and the won sign: ₩12,000.
func (w Won) String() string {
	n := int64(w)
	sign := ""
	if n < 0 {
		sign = "-"
		if n == math.MinInt64 {
			return "-₩" + strconv.FormatUint(uint64(math.MaxInt64)+1, 10)
		}
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + "₩" + b.String()
}

// MulQty returns price × qty, refusing results beyond MaxWon.
func (w Won) MulQty(qty int64) (Won, error) {
	if qty != 0 && int64(w) > int64(MaxWon)/qty {
		return 0, Invalid("amount %d × %d is larger than the maximum of %s", int64(w), qty, MaxWon)
	}
	return Won(int64(w) * qty), nil
}

// ParseInt parses a decimal integer flag or field value, naming it in the error.
func ParseInt(field, s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, Invalid("%s %q is out of range", field, s)
		}
		return 0, Invalid("%s %q is not a whole number", field, s)
	}
	return v, nil
}
