package shop

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on customer fields.
const (
	MaxCustomerNameLen = 100
	MaxAddressLen      = 200
	MinPasswordLen     = 8
	MaxPasswordBytes   = 1024
)

// Customer is a shop customer. The password hash never leaves the store layer.
type Customer struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	HasPassword bool   `json:"has_password"`
	// Phone (010-1234-5678) and Email are optional ("" for none).
	Phone     string    `json:"phone,omitempty"`
	Email     string    `json:"email,omitempty"`
	Address   *Address  `json:"address,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Address is a customer's postal address.
type Address struct {
	ZipCode string `json:"zip_code"`
	Line1   string `json:"line1"`
	Line2   string `json:"line2"`
}

// Validate checks the customer's name and, when given, address.
func (c Customer) Validate() error {
	if err := ValidateName("customer name", c.Name, MaxCustomerNameLen); err != nil {
		return err
	}
	if c.Phone != "" {
		if _, err := NormalizePhone(c.Phone); err != nil {
			return InField("phone", err)
		}
	}
	if c.Email != "" {
		if _, err := NormalizeEmail(c.Email); err != nil {
			return InField("email", err)
		}
	}
	if c.Address == nil {
		return nil
	}
	return c.Address.Validate()
}

// Validate checks a postal address: a five-digit postal code and a first line.
func (a Address) Validate() error {
	if a.ZipCode == "" || a.Line1 == "" {
		return Invalid("an address needs both a postal code and a first line")
	}
	if len(a.ZipCode) != 5 || strings.Trim(a.ZipCode, "0123456789") != "" {
		return Invalid("postal code %q is not five digits (a Korean postal code, like 04524)", a.ZipCode)
	}
	for _, f := range []struct{ name, v string }{{"zip code", a.ZipCode}, {"address line 1", a.Line1}} {
		if err := ValidateName(f.name, f.v, MaxAddressLen); err != nil {
			return err
		}
	}
	if a.Line2 != "" {
		return ValidateName("address line 2", a.Line2, MaxAddressLen)
	}
	return nil
}

// ValidatePassword checks a new password's length and encoding.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return Invalid("password is not valid UTF-8")
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return Invalid("password must be at least %d characters", MinPasswordLen)
	}
	if len(pw) > MaxPasswordBytes {
		return Invalid("password is longer than %d bytes", MaxPasswordBytes)
	}
	return nil
}

// CustomerPatch is what `customer update` changes; nil fields stay. Each
// address field changes only its part of the default address (an empty Line2
// clears it); a customer without an address needs a postal code and a first line.
type CustomerPatch struct {
	Name                  *string
	Phone, Email          *string // "" clears
	ZipCode, Line1, Line2 *string
}

// Apply changes c as p says, leaving alone what p does not name.
func (p CustomerPatch) Apply(c *Customer) {
	if p.Name != nil {
		c.Name = *p.Name
	}
	if p.Phone != nil {
		c.Phone = *p.Phone
	}
	if p.Email != nil {
		c.Email = *p.Email
	}
	if p.ZipCode == nil && p.Line1 == nil && p.Line2 == nil {
		return
	}
	a := Address{}
	if c.Address != nil {
		a = *c.Address
	}
	for _, f := range []struct{ to, from *string }{{&a.ZipCode, p.ZipCode}, {&a.Line1, p.Line1}, {&a.Line2, p.Line2}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	c.Address = &a
}

// Trimmed returns the customer with surrounding spaces cut from its name and
// address, and its phone and email in their usual shape when they have one
// (Validate refuses them otherwise).
func (c Customer) Trimmed() Customer {
	c.Name = strings.TrimSpace(c.Name)
	c.Phone, c.Email = strings.TrimSpace(c.Phone), strings.TrimSpace(c.Email)
	if p, err := NormalizePhone(c.Phone); err == nil {
		c.Phone = p
	}
	if e, err := NormalizeEmail(c.Email); err == nil {
		c.Email = e
	}
	if c.Address != nil {
		a := c.Address.Trimmed()
		c.Address = &a
	}
	return c
}

// Trimmed returns the address with surrounding spaces cut from its parts.
func (a Address) Trimmed() Address {
	return Address{ZipCode: strings.TrimSpace(a.ZipCode), Line1: strings.TrimSpace(a.Line1), Line2: strings.TrimSpace(a.Line2)}
}
