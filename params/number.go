package params

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

var (
	errNotInteger = errors.New("not an integer")
	errIntRange   = errors.New("outside the 64-bit integer range")
	errFloatRange = errors.New("outside the float64 range")
)

// maxExponentLen bounds the exponents parsed exactly; a longer one makes any
// non-zero value out of range (or a fraction).
const maxExponentLen = 9

// parseIntLiteral converts a valid JSON number literal to int64 if it
// denotes an integer, including forms such as 2.0 or 1e3 that some JSON
// encoders (notably Python's for floats) produce. It works on the decimal
// digits directly: going through float64 would silently round large values,
// and math/big would let an exponent like 1e999999999 allocate gigabytes.
func parseIntLiteral(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	expOverflow := 0 // +1 / -1 when the exponent is too long to represent
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := strings.TrimPrefix(s[i+1:], "+")
		eNeg := strings.HasPrefix(e, "-")
		e = strings.TrimLeft(strings.TrimPrefix(e, "-"), "0")
		if len(e) > maxExponentLen {
			expOverflow = 1
			if eNeg {
				expOverflow = -1
			}
		} else if e != "" {
			exp, _ = strconv.Atoi(e)
			if eNeg {
				exp = -exp
			}
		}
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, nil // zero, whatever the exponent
	}
	switch expOverflow {
	case 1:
		return 0, errIntRange
	case -1:
		return 0, errNotInteger
	}
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	if exp < 0 {
		return 0, errNotInteger
	}
	if len(digits)+exp > 19 { // int64 has at most 19 digits
		return 0, errIntRange
	}
	lit := digits + strings.Repeat("0", exp)
	if neg {
		lit = "-" + lit
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return 0, errIntRange
	}
	return n, nil
}

func parseFloatLiteral(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errFloatRange
	}
	return f, nil
}
