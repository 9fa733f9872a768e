package shop

import (
	"errors"
	"fmt"
	"testing"
)

// Every error constructor says its sentence and belongs to its kinds only.
func TestErrorKinds(t *testing.T) {
	cause := errors.New("connection reset")
	all := []error{ErrInvalid, ErrNotFound, ErrConflict, ErrIncomplete, ErrFenced, ErrInterrupted, ErrCartEmpty}
	for _, tc := range []struct {
		err   error
		msg   string
		kinds []error
	}{
		{Invalid("quantity %d must be at least 1", 0), "quantity 0 must be at least 1", []error{ErrInvalid}},
		{NotFound("no order has id %d", 9), "no order has id 9", []error{ErrNotFound}},
		{Conflict("order %d is %s", 1, OrderShipped), "order 1 is shipped", []error{ErrConflict}},
		{Incomplete("refund %d left", 2), "refund 2 left", []error{ErrIncomplete}},
		{Fenced("saga %s taken over", "u"), "saga u taken over", []error{ErrFenced, ErrIncomplete}},
		{Interrupted("interrupted"), "interrupted", []error{ErrInterrupted}},
		{CartEmpty(3), "customer 3's cart is empty", []error{ErrCartEmpty, ErrInvalid}},
		{UnknownOutcome("the refund", cause), "the refund: outcome unknown (connection reset)", []error{ErrIncomplete, cause}},
		{RefundInProgress(1, 2), "order 1 has refund 2 still in progress (its outcome at the provider is unknown): run 'rabbitpay saga recover' first", []error{ErrConflict}},
	} {
		if tc.err.Error() != tc.msg {
			t.Errorf("%q, want %q", tc.err, tc.msg)
		}
		for _, k := range append(all, cause) {
			want := false
			for _, w := range tc.kinds {
				want = want || w == k
			}
			if errors.Is(tc.err, k) != want {
				t.Errorf("%q is %v: %v, want %v", tc.err, k, !want, want)
			}
		}
		if wrapped := fmt.Errorf("context: %w", tc.err); !errors.Is(wrapped, tc.kinds[0]) {
			t.Errorf("%q wrapped loses its kind", tc.err)
		}
	}
}
