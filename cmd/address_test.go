package cmd

import (
	"strings"
	"testing"
)

// The address book: add (the first is the default, the phone normalized),
// list (default first, phones masked; JSON whole), default, remove; bad
// input refused with exit 2 and nothing written. Customers take an optional
// phone and email (issue 28).
func TestAddressBook(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼", "--phone", "+82 10 1234 5678", "--email", "Tokki@Example.COM")
	var cu struct {
		Phone string `json:"phone"`
		Email string `json:"email"`
	}
	c.json(&cu, "customer", "show", "1")
	if cu.Phone != "010-1234-5678" || cu.Email != "Tokki@example.com" {
		t.Fatalf("customer phone and email: %+v", cu)
	}
	if out := c.ok("customer", "list"); !strings.Contains(out, "010-****-5678") || strings.Contains(out, "1234") {
		t.Errorf("customer list does not mask the phone:\n%s", out)
	}
	c.ok("customer", "update", "1", "--email", "")
	cu.Phone, cu.Email = "", ""
	c.json(&cu, "customer", "show", "1")
	if cu.Email != "" || cu.Phone != "010-1234-5678" {
		t.Fatalf("--email \"\" did not clear only the email: %+v", cu)
	}

	type addr struct {
		ID        int64  `json:"id"`
		Recipient string `json:"recipient"`
		Phone     string `json:"phone"`
		Memo      string `json:"memo"`
		Default   bool   `json:"default"`
	}
	var home, office addr
	c.json(&home, "customer", "address", "add", "--customer", "1", "--recipient", "김토끼", "--phone", "01098765432",
		"--zip", "04524", "--line1", "서울 중구 세종대로 110", "--memo", "문 앞에 놓아 주세요")
	if home.ID == 0 || home.Phone != "010-9876-5432" || !home.Default || home.Memo != "문 앞에 놓아 주세요" {
		t.Fatalf("the first address: %+v", home)
	}
	c.json(&office, "customer", "address", "add", "--customer", "1", "--recipient", "김토순", "--phone", "02-123-4567",
		"--zip", "06236", "--line1", "서울 강남구 테헤란로 152")
	if office.Default {
		t.Fatalf("a second address became the default: %+v", office)
	}
	before := c.fullSnapshot()
	for _, bad := range []struct {
		want string
		args []string
	}{
		{"is not a Korean telephone number", []string{"--phone", "12345", "--zip", "04524"}},
		{"is not five digits", []string{"--phone", "010-1234-5678", "--zip", "4524"}},
	} {
		c.fails(ExitUsage, bad.want, append([]string{"customer", "address", "add", "--customer", "1", "--recipient", "x", "--line1", "x"}, bad.args...)...)
	}
	c.fails(ExitUsage, "no customer has id 9", "customer", "address", "add", "--customer", "9", "--recipient", "x", "--phone", "010-1234-5678", "--zip", "04524", "--line1", "x")
	c.fails(ExitUsage, "no customer has id 9", "customer", "address", "list", "--customer", "9")
	c.fails(ExitUsage, "no address has id 99", "customer", "address", "default", "99")
	c.fails(ExitUsage, "--phone", "customer", "register", "--name", "x", "--phone", "123")
	if after := c.fullSnapshot(); after != before {
		t.Fatalf("refused input changed the database:\n%s\n%s", before, after)
	}

	out := c.ok("customer", "address", "list", "--customer", "1")
	if !strings.Contains(out, "010-****-5432") || !strings.Contains(out, "02-***-4567") || strings.Contains(out, "9876") {
		t.Errorf("address list does not mask phones:\n%s", out)
	}
	var list []addr
	c.json(&list, "customer", "address", "list", "--customer", "1")
	if len(list) != 2 || list[0].ID != home.ID || list[1].Phone != "02-123-4567" {
		t.Fatalf("address list -o json: %+v", list)
	}
	c.ok("customer", "address", "default", itoa(office.ID))
	c.json(&list, "customer", "address", "list", "--customer", "1")
	if len(list) != 2 || list[0].ID != office.ID || !list[0].Default || list[1].Default {
		t.Fatalf("after default: %+v", list)
	}
	var cust struct {
		Address struct {
			ZipCode string `json:"zip_code"`
		} `json:"address"`
	}
	c.json(&cust, "customer", "show", "1")
	if cust.Address.ZipCode != "06236" {
		t.Errorf("the customer's default address after 'address default': %+v", cust)
	}
	if out := c.ok("customer", "address", "remove", itoa(home.ID)); !strings.Contains(out, "removed address") {
		t.Errorf("address remove: %q", out)
	}
	c.json(&list, "customer", "address", "list", "--customer", "1")
	if len(list) != 1 || list[0].ID != office.ID {
		t.Fatalf("after remove: %+v", list)
	}
	c.fails(ExitUsage, "no address has id", "customer", "address", "remove", itoa(home.ID))
}
