package cmd

import (
	"strings"
	"testing"
)

// An order keeps where it goes: a copy of the customer's default address,
// or --ship-to another of theirs, or --pickup; the copy stays when the
// address book changes; another customer's address, or a removed one, is
// refused with nothing changed; `order ship-to` changes it until an item
// ships; an order that goes nowhere cannot get a delivery started (issue 28).
func TestOrderShipTo(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼")
	c.ok("customer", "register", "--name", "박거북")
	c.ok("product", "register", "--sku", "A-1", "--name", "토끼 인형", "--price", "1000", "--stock", "10")
	type shipTo struct {
		AddressID int64  `json:"address_id"`
		Recipient string `json:"recipient"`
		Phone     string `json:"phone"`
		ZipCode   string `json:"zip_code"`
		Line1     string `json:"line1"`
		Memo      string `json:"memo"`
	}
	type order struct {
		ID     int64   `json:"id"`
		ShipTo *shipTo `json:"ship_to"`
		Pickup bool    `json:"pickup"`
	}
	var home, office, theirs struct {
		ID int64 `json:"id"`
	}
	place := func(args ...string) order {
		t.Helper()
		var res struct {
			Order order `json:"order"`
		}
		c.json(&res, append([]string{"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A-1:1"}, args...)...)
		return res.Order
	}

	// No address book yet: the order goes nowhere, and its delivery cannot start.
	nowhere := place()
	if nowhere.ShipTo != nil || nowhere.Pickup {
		t.Fatalf("an order of a customer without addresses: %+v", nowhere)
	}
	if out := c.ok("order", "show", itoa(nowhere.ID)); !strings.Contains(out, "== Ship to ==") || !strings.Contains(out, "nowhere yet") {
		t.Errorf("order show without a destination:\n%s", out)
	}
	c.fails(ExitFailure, "goes nowhere", "deliver", "start", "--order", itoa(nowhere.ID))

	c.json(&home, "customer", "address", "add", "--customer", "1", "--recipient", "김토끼", "--phone", "01012345678",
		"--zip", "04524", "--line1", "서울 중구 세종대로 110", "--memo", "문 앞")
	c.json(&office, "customer", "address", "add", "--customer", "1", "--recipient", "김토순", "--phone", "02-123-4567",
		"--zip", "06236", "--line1", "서울 강남구 테헤란로 152")
	c.json(&theirs, "customer", "address", "add", "--customer", "2", "--recipient", "박거북", "--phone", "010-5555-6666",
		"--zip", "48058", "--line1", "부산 해운대구 해운대로 1")

	byDefault := place()
	if s := byDefault.ShipTo; s == nil || s.AddressID != home.ID || s.Recipient != "김토끼" || s.Phone != "010-1234-5678" ||
		s.ZipCode != "04524" || s.Memo != "문 앞" {
		t.Fatalf("the order did not copy the default address: %+v", s)
	}
	toOffice := place("--ship-to", itoa(office.ID))
	if s := toOffice.ShipTo; s == nil || s.AddressID != office.ID || s.Recipient != "김토순" {
		t.Fatalf("--ship-to: %+v", s)
	}
	if pickup := place("--pickup"); !pickup.Pickup || pickup.ShipTo != nil {
		t.Fatalf("--pickup: %+v", pickup)
	}

	// The address book changes; the orders keep their copies.
	c.ok("customer", "address", "remove", itoa(office.ID))
	c.ok("customer", "update", "1", "--name", "김토끼2")
	var again order
	c.json(&again, "order", "show", itoa(toOffice.ID))
	if s := again.ShipTo; s == nil || s.Recipient != "김토순" || s.Line1 != "서울 강남구 테헤란로 152" {
		t.Fatalf("the order lost its ship-to when its address was removed: %+v", s)
	}
	if out := c.ok("order", "show", itoa(toOffice.ID)); !strings.Contains(out, "김토순  02-123-4567") {
		t.Errorf("order show's Ship to does not give the recipient and the whole phone:\n%s", out)
	}

	// Another customer's address, a removed one, both flags: refused, nothing changed.
	before := c.fullSnapshot()
	c.fails(ExitUsage, "is not one of customer 1's addresses", "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A-1:1", "--ship-to", itoa(theirs.ID))
	c.fails(ExitUsage, "is not one of customer 1's addresses", "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A-1:1", "--ship-to", itoa(office.ID))
	c.fails(ExitUsage, "not both", "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A-1:1", "--ship-to", itoa(home.ID), "--pickup")
	c.fails(ExitUsage, "is not one of customer 1's addresses", "order", "ship-to", itoa(nowhere.ID), "--address", itoa(theirs.ID))
	c.fails(ExitUsage, "--address ID", "order", "ship-to", itoa(nowhere.ID))
	if after := c.fullSnapshot(); after != before {
		t.Fatalf("a refused ship-to changed the database:\n%s\n%s", before, after)
	}

	// ship-to gives the order a destination; its delivery can start; once shipped it cannot go elsewhere.
	var moved order
	c.json(&moved, "order", "ship-to", itoa(nowhere.ID), "--address", itoa(home.ID))
	if moved.ShipTo == nil || moved.ShipTo.AddressID != home.ID {
		t.Fatalf("order ship-to: %+v", moved)
	}
	c.ok("deliver", "start", "--order", itoa(nowhere.ID))
	c.ok("order", "ship-to", itoa(nowhere.ID), "--pickup")
	var d []struct {
		ID int64 `json:"id"`
	}
	c.json(&d, "deliver", "list", "--order", itoa(nowhere.ID))
	if len(d) != 1 {
		t.Fatalf("deliveries of order %d: %+v", nowhere.ID, d)
	}
	c.ok("deliver", "update", itoa(d[0].ID), "--status", "SHIPPED", "--carrier", "CJ대한통운", "--tracking", "601234567890")
	before = c.fullSnapshot()
	c.fails(ExitFailure, "item A-1 has shipped", "order", "ship-to", itoa(nowhere.ID), "--address", itoa(home.ID))
	if after := c.fullSnapshot(); after != before {
		t.Fatalf("a refused ship-to changed the database:\n%s\n%s", before, after)
	}
}
