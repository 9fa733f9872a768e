package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
)

// The floor replays the store's own statements: each is in the script, and
// every parameter of each is bound to a pgbench variable (a statement that
// gains a parameter leaves a $N behind and fails here, not in a benchmark).
func TestFloorIsTheStoresStatements(t *testing.T) {
	if left := regexp.MustCompile(`\$\d`).FindAllString(floorScript, -1); len(left) > 0 {
		t.Fatalf("parameters left unbound in the floor script: %v", left)
	}
	for name, sql := range map[string]string{"StartSagaSQL": postgres.StartSagaSQL, "SandboxRecordSQL": postgres.SandboxRecordSQL,
		"FenceSQL": postgres.FenceSQL, "RecordCallsSQL": postgres.RecordCallsSQL, "CreateOrderSQL": postgres.CreateOrderSQL} {
		// The statement's text around its parameters is in the script as it is.
		for _, part := range regexp.MustCompile(`\$\d+`).Split(sql, -1) {
			if !strings.Contains(floorScript, part) {
				t.Errorf("the floor script lacks %s's text %q", name, part)
			}
		}
	}
}
