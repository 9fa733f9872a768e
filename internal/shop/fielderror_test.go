package shop

import (
	"errors"
	"strings"
	"testing"
)

// An error about a field says the field in the domain's words, keeps its
// kind, and lets a front end find the field.
func TestFieldError(t *testing.T) {
	if InField("carrier", nil) != nil {
		t.Fatal("InField(nil) is not nil")
	}
	err := ValidateCarrier("carrier", strings.Repeat("c", MaxCarrierLen+1))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "carrier" || !errors.Is(err, ErrInvalid) ||
		err.Error() != "carrier is 101 characters long; the limit is 100" {
		t.Fatalf("ValidateCarrier: %v (%#v)", err, fe)
	}
	if err := ValidateCarrier("tracking number", ""); err != nil {
		t.Fatalf("an empty tracking number is refused: %v", err)
	}
	if err := InField("data dir", errors.New("data dir /x is not a directory")); errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != "data dir" {
		t.Fatalf("InField changed the kind or lost the field: %v", err)
	}
}
