package shop

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DeliveryStatus is where one order item's delivery stands.
type DeliveryStatus string

// Delivery statuses, in the only order a delivery moves through them.
const (
	DeliveryReady     DeliveryStatus = "READY"
	DeliveryShipped   DeliveryStatus = "SHIPPED"
	DeliveryInTransit DeliveryStatus = "IN_TRANSIT"
	DeliveryDelivered DeliveryStatus = "DELIVERED"
)

// DeliveryStatuses lists every status in lifecycle order.
var DeliveryStatuses = []DeliveryStatus{DeliveryReady, DeliveryShipped, DeliveryInTransit, DeliveryDelivered}

// ParseDeliveryStatus accepts one of the statuses in any case (IN-TRANSIT too).
func ParseDeliveryStatus(s string) (DeliveryStatus, error) {
	st := DeliveryStatus(strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "_"))
	if slices.Contains(DeliveryStatuses, st) {
		return st, nil
	}
	return "", Invalid("delivery status %s is not one of READY, SHIPPED, IN_TRANSIT, DELIVERED", Echo(s))
}

// Shipped reports whether the item has left the warehouse.
func (s DeliveryStatus) Shipped() bool { return slices.Index(DeliveryStatuses, s) >= 1 }

// CheckMove says whether delivery id may move from s to to: only forward
// (a carrier may skip a step), never back, never to where it already is.
func (s DeliveryStatus) CheckMove(id int64, to DeliveryStatus) error {
	from, dest := slices.Index(DeliveryStatuses, s), slices.Index(DeliveryStatuses, to)
	switch {
	case dest < 0:
		return Invalid("delivery status %q is not one of READY, SHIPPED, IN_TRANSIT, DELIVERED", to)
	case dest == from:
		return Conflict("delivery %d is already %s", id, s)
	case dest < from:
		return Conflict("delivery %d is %s and cannot go back to %s: status only moves forward (READY → SHIPPED → IN_TRANSIT → DELIVERED)", id, s, to)
	}
	return nil
}

// Delivery is one order item's delivery.
type Delivery struct {
	ID             int64           `json:"id"`
	OrderID        int64           `json:"order_id"`
	OrderProductID int64           `json:"order_product_id"`
	CustomerID     int64           `json:"customer_id"`
	SKU            string          `json:"sku"`
	Name           string          `json:"name"`
	Quantity       int64           `json:"quantity"`
	Status         DeliveryStatus  `json:"status"`
	Carrier        string          `json:"carrier"`
	TrackingNumber string          `json:"tracking_number"`
	TrackingURL    string          `json:"tracking_url"` // where the buyer tracks it (a known carrier's; "" otherwise)
	ShipTo         *ShipTo         `json:"ship_to"`      // where its order goes
	Pickup         bool            `json:"pickup"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	History        []DeliveryEvent `json:"history,omitempty"`
}

// DeliveryEvent is one status change of a delivery.
type DeliveryEvent struct {
	Status         DeliveryStatus `json:"status"`
	Carrier        string         `json:"carrier"`
	TrackingNumber string         `json:"tracking_number"`
	At             time.Time      `json:"at"`
}

// DeliveryFilter narrows `deliver list`.
type DeliveryFilter struct {
	OrderID, CustomerID int64
	Status              DeliveryStatus
	Since               time.Time // made at or after (zero: any time)
}

// DeliveryStart asks for READY deliveries of an order's items.
type DeliveryStart struct {
	OrderID int64
	// Items are order_product ids or product references (SKU, #ID, sku:SKU);
	// none means every item that has no delivery yet.
	Items             []string
	Carrier, Tracking string
}

// DeliveryChange moves one delivery to a status. The delivery is named by
// ID, or by OrderID and SKU (an import row).
type DeliveryChange struct {
	Line     int // the import file's line; 0 on the command line
	ID       int64
	OrderID  int64
	SKU      string
	Status   DeliveryStatus
	Carrier  string    // "" keeps the current carrier
	Tracking string    // "" keeps the current tracking number
	At       time.Time // zero: now
	// HandOff marks a courier hand-off row (no status given): one whose
	// delivery shipped already with that waybill number changes nothing,
	// so the same file may be imported twice.
	HandOff bool
}

// Name says which delivery a change means, for messages.
func (c DeliveryChange) Name() string {
	if c.ID != 0 {
		return "delivery " + strconv.FormatInt(c.ID, 10)
	}
	return "order " + strconv.FormatInt(c.OrderID, 10) + " item " + c.SKU
}

// MaxCarrierLen bounds a carrier's name and a tracking number.
const MaxCarrierLen = 100

// ValidateCarrier checks a carrier name or tracking number; its error is
// about the field named what.
func ValidateCarrier(what, s string) error {
	if s == "" {
		return nil
	}
	return InField(what, ValidateName(what, s, MaxCarrierLen))
}

// DeliveryImportSummary is what `deliver import` did.
type DeliveryImportSummary struct {
	Rows    int `json:"rows"`
	Changed int `json:"changed"`
	Skipped int `json:"skipped"` // hand-off rows left without a waybill number
}

// ItemRef is one order item as an operator may name it, and as the rules
// see it: its quantities and its delivery.
type ItemRef struct {
	OrderProductID, ProductID int64
	SKU                       string
	DeliveryID                int64          // 0: none yet
	Delivery                  DeliveryStatus // its delivery's status; "" while it has none
	Quantity                  int64          // bought
	Remaining                 int64          // the quantity not refunded
	Changed                   time.Time      // its delivery's last change; zero while it has none
	Carrier, Tracking         string         // its delivery's carrier and tracking number, so far
}

// MatchItem finds the item ref names among an order's items: an
// order_product id, or a product reference (ProductRef). A bare number that
// is one item's id and another item's SKU is refused.
func MatchItem(orderID int64, items []ItemRef, ref string) (ItemRef, error) {
	r, err := ParseProductRef(ref)
	if err != nil {
		return ItemRef{}, err
	}
	find := func(ok func(ItemRef) bool) (ItemRef, bool) {
		i := slices.IndexFunc(items, ok)
		if i < 0 {
			return ItemRef{}, false
		}
		return items[i], true
	}
	// A bare number's id is the order item's; #ID is the product's.
	bySKU, skuOK := find(func(it ItemRef) bool { return r.SKU() != "" && it.SKU == r.SKU() })
	byID, idOK := find(func(it ItemRef) bool {
		return r.Bare() && it.OrderProductID == r.ID() || r.SKU() == "" && it.ProductID == r.ID()
	})
	switch {
	case skuOK && idOK && bySKU != byID:
		return ItemRef{}, r.ambiguous(fmt.Sprintf("the id of item %d (product #%d)", byID.OrderProductID, byID.ProductID), byID.ProductID,
			fmt.Sprintf("item %d of order %d", bySKU.OrderProductID, orderID))
	case skuOK:
		return bySKU, nil
	case idOK:
		return byID, nil
	}
	return ItemRef{}, Invalid("order %d has no item %s (give an order item id or a product SKU)", orderID, Echo(ref))
}
