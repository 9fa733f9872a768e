package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rabbitpay.yaml")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, mode); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestUnknownKeysWarnKnownKeysComeFromTheStruct(t *testing.T) {
	file := writeConfig(t, "output: json\ndatabase_urll: postgres://x/y\npayment:\n  sandbox:\n    decline_over: 5\n    colour: red\nconnect_timeout: 2s\n", 0o600)
	c, err := Load(flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`config file ` + file + `: unknown key "database_urll" (ignored)`,
		`config file ` + file + `: unknown key "payment.sandbox.colour" (ignored)`,
	}
	if strings.Join(c.Warnings, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings %q, want %q", c.Warnings, want)
	}
	if c.ConnectTimeout != 2*time.Second || c.Payment.Sandbox.DeclineOver != 5 {
		t.Fatalf("config %+v", c)
	}
	// Every field of Config is a known key, so a new one needs no list.
	known := knownKeys()
	for _, k := range []string{"database_url", "data_dir", "output", "max_conns", "payment.sandbox.decline_over", "saga.compensation_attempts", "connect_timeout"} {
		if _, ok := known[k]; !ok {
			t.Errorf("%s is not a known key", k)
		}
	}
	if _, ok := known["failpoints"]; ok {
		t.Error("failpoints is a config key")
	}
}

func TestBadValueNamesKeyFileAndType(t *testing.T) {
	for content, want := range map[string]string{
		"max_conns: lots\n":                             `max_conns is "lots", expected a whole number`,
		"max_conns: 3000000000\n":                       `max_conns is 3000000000, expected a whole number between -2147483648 and 2147483647`,
		"connect_timeout: 5\n":                          `connect_timeout is 5, expected a duration with a unit, such as 5s`,
		"connect_timeout: soon\n":                       `connect_timeout is "soon", expected a duration`,
		"payment:\n  sandbox:\n    decline_over: 1.5\n": `payment.sandbox.decline_over is 1.5, expected a whole number`,
		"saga: 3\n":                                     `saga must be a mapping of keys, not a single value`,
		"output: [a, b]\n":                              `output is [a b], expected a string`,
		"notify:\n  webhook:\n    url: \"https://x.example/\\a\"\n": `notify.webhook.url contains a control character (U+0007)`,
		"payment:\n  kakao:\n    secret_key: \"DEV\\nSECRET\"\n":    `payment.kakao.secret_key contains a control character (a newline)`,
	} {
		file := writeConfig(t, content, 0o600)
		_, err := Load(flags(), file)
		if err == nil || !strings.HasPrefix(err.Error(), "config file "+file+": ") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want %q", content, err, want)
		}
	}
	t.Setenv("RABBITPAY_MAX_CONNS", "many")
	if _, err := Load(flags(), ""); err == nil || err.Error() != `environment variable RABBITPAY_MAX_CONNS is "many", expected a whole number between -2147483648 and 2147483647` {
		t.Errorf("env: %v", err)
	}
}

func TestFileChecks(t *testing.T) {
	// Refused: writable by group or others.
	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		file := writeConfig(t, "output: json\n", mode)
		if _, err := Load(flags(), file); err == nil || !strings.Contains(err.Error(), "config file "+file+" can be changed by other users") {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	// A secret readable by others: a warning.
	file := writeConfig(t, "database_url: postgres://shop:s3cret@db/shop\n", 0o644)
	c, err := Load(flags(), file)
	if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "holds a secret (database_url) and other users can read it (mode 0644)") || strings.Contains(c.Warnings[0], "s3cret") {
		t.Fatalf("readable secret: %v %q", err, c.Warnings)
	}
	file = writeConfig(t, "database_url: host=db password=s3cret\n", 0o600)
	if c, err := Load(flags(), file); err != nil || len(c.Warnings) != 0 {
		t.Fatalf("private secret: %v %q", err, c.Warnings)
	}
	file = writeConfig(t, "database_url: postgres://shop@db/shop\n", 0o644)
	if c, err := Load(flags(), file); err != nil || len(c.Warnings) != 0 {
		t.Fatalf("no secret: %v %q", err, c.Warnings)
	}
	// Failpoints: never from a file.
	file = writeConfig(t, "failpoints: after_payment=crash\n", 0o600)
	if _, err := Load(flags(), file); err == nil || !strings.Contains(err.Error(), "config file "+file+" sets failpoints") {
		t.Fatalf("failpoints in a file: %v", err)
	}
	t.Setenv("RABBITPAY_FAILPOINTS", "payment=error")
	c, err = Load(flags(), "")
	if err != nil || c.Failpoints != "payment=error" || len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], "failpoints are on") {
		t.Fatalf("failpoints from the environment: %v %+v", err, c)
	}

	if os.Geteuid() != 0 {
		return
	}
	// Owned by another user: refused, also through a symbolic link; root's own files are fine.
	file = writeConfig(t, "output: json\n", 0o600)
	os.Chown(file, 65534, 65534)
	if _, err := Load(flags(), file); err == nil || err.Error() != "config file "+file+" belongs to user nobody, not to you: refusing to use it (whoever can change it controls rabbitpay); copy it if you trust it" {
		t.Fatalf("owned by nobody: %v", err)
	}
	os.Chown(file, 0, 0)
	link := filepath.Join(t.TempDir(), "link.yaml")
	os.Symlink(file, link)
	os.Lchown(link, 65534, 65534)
	if _, err := Load(flags(), link); err == nil || !strings.Contains(err.Error(), "symbolic link that belongs to user nobody") {
		t.Fatalf("link owned by nobody: %v", err)
	}
}

// ./rabbitpay.yaml left by another user in a shared directory is refused, not obeyed.
func TestPlantedFileInWorkingDirRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs it as root): it gives a file to the user nobody (chown)")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o1777)
	file := filepath.Join(dir, "rabbitpay.yaml")
	os.WriteFile(file, []byte("payment:\n  sandbox:\n    decline_over: 1\n"), 0o644)
	os.Chown(file, 65534, 65534)
	t.Chdir(dir)
	if _, err := Load(flags(), ""); err == nil || !strings.HasPrefix(err.Error(), "config file rabbitpay.yaml belongs to user nobody") {
		t.Fatalf("planted ./rabbitpay.yaml: %v", err)
	}
}

// config.example.yaml documents every key and only known keys.
func TestExampleConfigLoadsCleanly(t *testing.T) {
	c, err := Load(flags(), filepath.Join("..", "..", "config.example.yaml"))
	if err != nil || len(c.Warnings) != 0 {
		t.Fatalf("config.example.yaml: %v %q", err, c.Warnings)
	}
	b, _ := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	for k := range knownKeys() {
		last := k[strings.LastIndexByte(k, '.')+1:]
		if !strings.Contains(string(b), last+":") {
			t.Errorf("config.example.yaml does not document %s", k)
		}
	}
}
