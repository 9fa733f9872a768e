package cmd

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/app"
)

func TestCustomerRegisterHashesPassword(t *testing.T) {
	c := newCLI(t)
	const pw = "토끼는깡충깡충뛰어요토끼는깡충깡충뛰어요토끼는깡충" // 25 Hangul: over bcrypt's 72 bytes
	r := c.runIn(pw+"\n", "customer", "register", "--name", "김토끼", "--zip", "04524", "--line1", "서울 중구 세종대로 110", "--password-stdin", "-o", "json")
	if r.code != 0 {
		t.Fatalf("register: exit %d: %s", r.code, r.err)
	}
	if strings.Contains(r.out, pw) || strings.Contains(r.out, "argon2") || strings.Contains(r.out, "password_hash") {
		t.Fatalf("output leaks the password or its hash: %s", r.out)
	}
	if !strings.Contains(r.out, `"has_password": true`) || !strings.Contains(r.out, `"zip_code": "04524"`) {
		t.Fatalf("register output: %s", r.out)
	}
	for _, f := range []string{"json", "csv", "table"} {
		out := c.ok("customer", "list", "-o", f)
		if !strings.Contains(out, "김토끼") || strings.Contains(out, "argon2") {
			t.Fatalf("customer list -o %s: %s", f, out)
		}
	}

	conn, err := pgx.Connect(context.Background(), c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var hash string
	if err := conn.QueryRow(context.Background(), "SELECT password_hash FROM customer WHERE id = 1").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || !app.VerifyPassword(hash, pw) || app.VerifyPassword(hash, pw+"x") {
		t.Fatalf("stored hash %q does not verify the password", hash)
	}
}

func TestCustomerBadInput(t *testing.T) {
	c := newCLI(t)
	c.fails(2, "--name is required", "customer", "register")
	if r := c.runIn("short\n", "customer", "register", "--name", "김", "--password-stdin"); r.code != 2 || !strings.Contains(r.err, "password must be at least 8 characters") {
		t.Fatalf("short password: exit %d, stderr %q", r.code, r.err)
	}
	c.fails(2, "standard input was empty", "customer", "register", "--name", "김", "--password-stdin")
	c.fails(2, "an address needs both --zip and --line1", "customer", "register", "--name", "김", "--zip", "1")
	c.fails(2, "no customer has id 7", "customer", "show", "7")
	c.fails(2, `customer id "x" is not a whole number`, "customer", "show", "x")
	if out := c.ok("customer", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("bad input created customers: %s", out)
	}
}

func TestCustomerUpdate(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼")
	var cu struct {
		Name        string `json:"name"`
		HasPassword bool   `json:"has_password"`
		Address     *struct {
			ZipCode string `json:"zip_code"`
			Line1   string `json:"line1"`
			Line2   string `json:"line2"`
		} `json:"address"`
	}
	c.json(&cu, "customer", "update", "1", "--name", "  김토순 ", "--zip", "06236", "--line1", "서울 강남구 테헤란로 152")
	if cu.Name != "김토순" || cu.Address == nil || cu.Address.ZipCode != "06236" || cu.HasPassword {
		t.Fatalf("after update: %+v", cu)
	}
	if r := c.runIn("비밀번호는토끼입니다\n", "customer", "update", "1", "--password-stdin", "-o", "json"); r.code != 0 || !strings.Contains(r.out, `"has_password": true`) || strings.Contains(r.out, "비밀번호") {
		t.Fatalf("password update: exit %d %s %s", r.code, r.out, r.err)
	}
	c.fails(2, "postal code \"1234\" is not five digits", "customer", "update", "1", "--zip", "1234", "--line1", "x")
	c.ok("customer", "register", "--name", "이토끼") // no address yet
	c.fails(2, "an address needs both a postal code and a first line", "customer", "update", "2", "--line2", "3층")
	c.json(&cu, "customer", "update", "1", "--zip", "06236", "--line1", "서울 강남구 테헤란로 152", "--line2", "3층")
	// Only what is given changes: a new zip and line 1 keep line 2.
	c.json(&cu, "customer", "update", "1", "--zip", "06237", "--line1", "서울 강남구 테헤란로 153")
	if cu.Address == nil || cu.Address.ZipCode != "06237" || cu.Address.Line2 != "3층" {
		t.Fatalf("zip and line 1 changed line 2: %+v", cu.Address)
	}
	c.json(&cu, "customer", "update", "1", "--line2", "")
	if cu.Address == nil || cu.Address.Line1 != "서울 강남구 테헤란로 153" || cu.Address.Line2 != "" {
		t.Fatalf("--line2 \"\" did not clear line 2 alone: %+v", cu.Address)
	}
	c.fails(2, "nothing to update", "customer", "update", "1")
	c.fails(2, "no customer has id 9", "customer", "update", "9", "--name", "x")
	c.json(&cu, "customer", "show", "1")
	if cu.Name != "김토순" || cu.Address.ZipCode != "06237" || !cu.HasPassword {
		t.Fatalf("refused updates changed the customer: %+v", cu)
	}
}
