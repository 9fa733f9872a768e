package shop

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxEmailLen is RFC 5321's limit on an address's length.
const MaxEmailLen = 254

// Korean telephone numbers, as the national numbering plan (국가번호체계,
// Ministry of Science and ICT) gives them, written without separators:
// mobile 010 (eight digits after it) and the older 011/016/017/018/019;
// Seoul 02; the other areas
// 031–033, 041–044, 051–055, 061–064; internet telephony 070; nationwide
// business numbers 15xx/16xx/18xx (eight digits, no area code).
var (
	phoneMobile   = regexp.MustCompile(`^(010)(\d{4})(\d{4})$`)
	phoneOlder    = regexp.MustCompile(`^(01[16789])(\d{3,4})(\d{4})$`)
	phoneSeoul    = regexp.MustCompile(`^(02)(\d{3,4})(\d{4})$`)
	phoneArea     = regexp.MustCompile(`^(0(?:3[1-3]|4[1-4]|5[1-5]|6[1-4]|70))(\d{3,4})(\d{4})$`)
	phoneBusiness = regexp.MustCompile(`^(1[568]\d{2})(\d{4})$`)
)

// NormalizePhone reads a Korean telephone number as people write it (with
// or without hyphens, spaces, dots or brackets; +82 for the country, its
// leading 0 dropped) and returns it in the usual shape: 010-1234-5678,
// 02-123-4567, 031-1234-5678, 1588-1234.
func NormalizePhone(s string) (string, error) {
	raw := s
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(s, "+82"); ok {
		s = "0" + strings.TrimPrefix(rest, "0") // +82 10 … and +82 (0)10 … alike
	}
	for _, re := range []*regexp.Regexp{phoneMobile, phoneOlder, phoneSeoul, phoneArea, phoneBusiness} {
		if m := re.FindStringSubmatch(s); m != nil {
			return strings.Join(m[1:], "-"), nil
		}
	}
	return "", Invalid("phone %s is not a Korean telephone number (010-1234-5678, 02-123-4567, +82 10 1234 5678)", Echo(raw))
}

// MaskPhone hides the middle of a normalized number, as lists show it:
// 010-****-5678.
func MaskPhone(p string) string {
	parts := strings.Split(p, "-")
	if len(parts) != 3 {
		return p
	}
	return parts[0] + "-" + strings.Repeat("*", len(parts[1])) + "-" + parts[2]
}

var emailShape = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)

// NormalizeEmail checks an email address's shape (one @, a dotted domain,
// no spaces) and returns it with its domain in lower case.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || len(s) > MaxEmailLen || !emailShape.MatchString(s) {
		return "", Invalid("email %s is not an email address (name@example.com)", Echo(s))
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at] + "@" + strings.ToLower(s[at+1:]), nil
}

// MaxMemoLen bounds a delivery memo (배송 메모).
const MaxMemoLen = 100

// BookAddress is one entry of a customer's address book: where an order
// goes, to whom, and a note for the courier.
type BookAddress struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customer_id"`
	Recipient  string `json:"recipient"`
	Phone      string `json:"phone"`
	ZipCode    string `json:"zip_code"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	Memo       string `json:"memo"`
	Default    bool   `json:"default"`
}

// Normalized checks an address book entry and returns it trimmed, its phone
// in the usual shape.
func (a BookAddress) Normalized() (BookAddress, error) {
	a.Recipient, a.Memo = strings.TrimSpace(a.Recipient), strings.TrimSpace(a.Memo)
	postal := Address{ZipCode: a.ZipCode, Line1: a.Line1, Line2: a.Line2}.Trimmed()
	if err := postal.Validate(); err != nil {
		return a, err
	}
	a.ZipCode, a.Line1, a.Line2 = postal.ZipCode, postal.Line1, postal.Line2
	if err := ValidateName("recipient", a.Recipient, MaxCustomerNameLen); err != nil {
		return a, err
	}
	if a.Memo != "" {
		if err := ValidateName("memo", a.Memo, MaxMemoLen); err != nil {
			return a, err
		}
	}
	var err error
	a.Phone, err = NormalizePhone(a.Phone)
	return a, err
}

// ShipTo is where an order goes: a copy of an address book entry, taken
// when the order is placed (or its destination changed), which the address
// book's later changes leave alone.
type ShipTo struct {
	AddressID int64  `json:"address_id"`
	Recipient string `json:"recipient"`
	Phone     string `json:"phone"`
	ZipCode   string `json:"zip_code"`
	Line1     string `json:"line1"`
	Line2     string `json:"line2,omitempty"`
	Memo      string `json:"memo,omitempty"`
}

// Address is the street address in one line: line 1, then line 2.
func (t ShipTo) Address() string { return strings.TrimSpace(t.Line1 + " " + t.Line2) }

// Masked is where the order goes in one line, as lists show it: the phone
// masked (MaskPhone).
func (t ShipTo) Masked() string {
	return strings.Join(strings.Fields(fmt.Sprintf("%s %s (%s) %s", t.Recipient, MaskPhone(t.Phone), t.ZipCode, t.Address())), " ")
}

// Destination asks where an order goes: the address book entry AddressID,
// the customer's default address (0; none when they have no default), or
// nowhere (Pickup: handed over at the counter).
type Destination struct {
	AddressID int64
	Pickup    bool
}

// NoDestination is refused where an order must go somewhere.
func NoDestination(orderID int64) error {
	return Conflict("order %d goes nowhere: give it one of its customer's addresses, or make it a pickup ('rabbitpay order ship-to %d')", orderID, orderID)
}

// NotYourAddress refuses an address that is not one of the customer's.
func NotYourAddress(addressID, customerID int64) error {
	return Invalid("address %d is not one of customer %d's addresses", addressID, customerID)
}
