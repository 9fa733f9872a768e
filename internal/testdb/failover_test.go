package testdb

import "testing"

// The harness itself: a write acknowledged by the primary is on the standby
// (synchronous replication), and after a crash and a promotion the
// multi-host URL reaches the promoted node and writes there.
func TestFailoverPair(t *testing.T) {
	t.Parallel()
	p := StartPair(t)
	url := p.URL("postgres")
	if _, err := connect(t, url).Exec(ctx, "CREATE TABLE acked (n int); INSERT INTO acked VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var readOnly string
	standby := connect(t, p.Standby.URL("postgres"))
	if err := standby.QueryRow(ctx, "SHOW transaction_read_only").Scan(&readOnly); err != nil || readOnly != "on" {
		t.Fatalf("the standby: transaction_read_only %q, %v", readOnly, err)
	}
	p.Primary.Crash(t)
	p.Standby.Promote(t)
	c := connect(t, url)
	if _, err := c.Exec(ctx, "INSERT INTO acked VALUES (2)"); err != nil {
		t.Fatalf("a write through the multi-host URL after the promotion: %v", err)
	}
	var n int
	var port uint16
	if err := c.QueryRow(ctx, "SELECT count(*), current_setting('port')::int FROM acked").Scan(&n, &port); err != nil || n != 2 || int(port) != p.Standby.Port {
		t.Fatalf("after the promotion: %d rows on port %d (%v), want 2 on the standby's %d", n, port, err, p.Standby.Port)
	}
	var names string
	if err := c.QueryRow(ctx, "SHOW synchronous_standby_names").Scan(&names); err != nil || names != "" {
		t.Fatalf("the promoted node's synchronous_standby_names %q (%v), want none", names, err)
	}
}
