package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func flags(args ...string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("rabbitpay", pflag.ContinueOnError)
	fs.String("database-url", "", "")
	fs.String("database-read-url", "", "")
	fs.String("data-dir", "", "")
	fs.StringP("output", "o", "table", "")
	if err := fs.Parse(args); err != nil {
		panic(err)
	}
	return fs
}

func TestPrecedenceFlagEnvFileDefault(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rabbitpay.yaml")
	os.WriteFile(file, []byte("output: csv\ndata_dir: /from/file\ndatabase_url: postgres://file/db\npayment:\n  sandbox:\n    decline_over: 5\n"), 0o600)

	c, err := Load(flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Output != "csv" || c.DataDir != "/from/file" || c.Payment.Sandbox.DeclineOver != 5 || c.Saga.CompensationAttempts != 3 {
		t.Fatalf("file + defaults: %+v", c)
	}

	t.Setenv("RABBITPAY_OUTPUT", "json")
	t.Setenv("RABBITPAY_PAYMENT_SANDBOX_DECLINE_OVER", "7")
	t.Setenv("RABBITPAY_SAGA_COMPENSATION_ATTEMPTS", "9")
	c, err = Load(flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Output != "json" || c.Payment.Sandbox.DeclineOver != 7 || c.Saga.CompensationAttempts != 9 || c.DataDir != "/from/file" {
		t.Fatalf("env over file: %+v", c)
	}

	c, err = Load(flags("-o", "table", "--data-dir", "/from/flag"), file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Output != "table" || c.DataDir != "/from/flag" || c.DatabaseURL != "postgres://file/db" {
		t.Fatalf("flag over env: %+v", c)
	}
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(flags(), filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "cannot read config file") {
		t.Fatalf("missing explicit file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("output: [\n"), 0o600)
	if _, err := Load(flags(), bad); err == nil || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("bad yaml: %v", err)
	}
	// A list, or a key twice: the reason on the one line, not cut after a heading.
	for content, want := range map[string]string{
		"- a\n- b\n":                  "line 1: the file is not keys and values",
		"output: json\noutput: csv\n": `line 2: mapping key "output" already defined at line 1`,
	} {
		os.WriteFile(bad, []byte(content), 0o600)
		if _, err := Load(flags(), bad); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("config %q: %v", content, err)
		}
	}
	if _, err := Load(flags("-o", "yaml"), ""); err == nil || !strings.Contains(err.Error(), `output format "yaml"`) {
		t.Fatalf("-o yaml: %v", err)
	}
}

// The read replica's URL: flag over env over file, and a password in it is a
// secret like database_url's.
func TestDatabaseReadURL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rabbitpay.yaml")
	os.WriteFile(file, []byte("database_read_url: postgres://shop:pw@replica/db\n"), 0o644)
	c, err := Load(flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseReadURL != "postgres://shop:pw@replica/db" || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "database_read_url") {
		t.Fatalf("from the file: %q, warnings %q", c.DatabaseReadURL, c.Warnings)
	}
	t.Setenv("RABBITPAY_DATABASE_READ_URL", "postgres://env/db")
	if c, err = Load(flags(), file); err != nil || c.DatabaseReadURL != "postgres://env/db" {
		t.Fatalf("from the environment: %q, %v", c.DatabaseReadURL, err)
	}
	if c, err = Load(flags("--database-read-url", "postgres://flag/db"), file); err != nil || c.DatabaseReadURL != "postgres://flag/db" {
		t.Fatalf("from the flag: %q, %v", c.DatabaseReadURL, err)
	}
}
