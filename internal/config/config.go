// Package config turns flags, RABBITPAY_* environment variables, the config
// file and defaults (in that order of precedence) into one typed Config.
// It is the only package that imports viper.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Config is every setting rabbitpay reads.
type Config struct {
	ConfigFile  string         `mapstructure:"-"`
	DatabaseURL string         `mapstructure:"database_url"`
	DataDir     string         `mapstructure:"data_dir"`
	Output      string         `mapstructure:"output"`
	MaxConns    int32          `mapstructure:"max_conns"`
	Payment     PaymentConfig  `mapstructure:"payment"`
	Saga        SagaConfig     `mapstructure:"saga"`
	Notify      NotifyConfig   `mapstructure:"notify"`
	Checkout    CheckoutConfig `mapstructure:"checkout"`
	Backup      BackupConfig   `mapstructure:"backup"`
	// ConnectTimeout bounds connecting to PostgreSQL when the URL sets no connect_timeout.
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	// CommandTimeout bounds an interactive command (a show, a list, a cart
	// change); commands that run long on purpose have bounds of their own.
	CommandTimeout time.Duration `mapstructure:"command_timeout"`
	// Retention is how old operational records must be for `db prune` to
	// remove them when no age is given (90d, 720h; "" for none).
	Retention string `mapstructure:"retention"`
	// DatabaseReadURL is a read replica for reads that need not see their
	// own writes (lists, shows, exports, completions); "" reads from DatabaseURL.
	DatabaseReadURL string `mapstructure:"database_read_url"`
	// Failpoints make saga steps fail or crash: tests and demos only. They
	// come only from the RABBITPAY_FAILPOINTS environment variable, never
	// from a file (a file sharing a directory with other users could crash
	// every order).
	Failpoints string `mapstructure:"-"`
	// Warnings are one-line notices for stderr: unknown keys, a readable
	// file holding a secret, failpoints on.
	Warnings []string `mapstructure:"-"`
}

// PaymentConfig configures the payment gateways.
type PaymentConfig struct {
	// Provider is sandbox (the offline sandbox, the default) or live (the
	// providers' APIs).
	Provider string        `mapstructure:"provider"`
	Sandbox  SandboxConfig `mapstructure:"sandbox"`
	// Timeout bounds every call to a payment provider, retries included.
	Timeout time.Duration `mapstructure:"timeout"`
	// HTTPTimeout bounds one HTTP request to a live provider.
	HTTPTimeout time.Duration `mapstructure:"http_timeout"`
	// ApprovalTimeout is how long an order waits for the buyer to approve.
	ApprovalTimeout time.Duration  `mapstructure:"approval_timeout"`
	Callback        CallbackConfig `mapstructure:"callback"`
	// Providers holds each registered provider's section (payment.kakao,
	// payment.naver, ...: see payment.Providers), by method. A method
	// without one has the defaults.
	Providers map[shop.PaymentMethod]payment.Settings `mapstructure:"-"`
}

// Payment providers.
const (
	ProviderSandbox = "sandbox"
	ProviderLive    = "live"
)

// CallbackConfig is where buyers come back from a provider's approval page.
type CallbackConfig struct {
	// Listen is the address the callback listener serves on ("" for none:
	// approvals then come from --approval-token or the terminal prompt).
	Listen string `mapstructure:"listen"`
	// PublicURL is the listener's address as the buyer's browser reaches it.
	PublicURL string `mapstructure:"public_url"`
}

// SandboxConfig configures the offline payment sandbox.
type SandboxConfig struct {
	// DeclineOver makes the sandbox decline any payment above this many won (0: never).
	DeclineOver int64 `mapstructure:"decline_over"`
}

// SagaConfig tunes the order saga.
type SagaConfig struct {
	// CompensationAttempts bounds how often a failing compensation is tried.
	CompensationAttempts int `mapstructure:"compensation_attempts"`
	// Lease is how long a saga's owner holds it without renewing; `saga
	// recover` takes over only sagas whose lease has expired.
	Lease time.Duration `mapstructure:"lease"`
}

// NotifyConfig configures `notify send`.
type NotifyConfig struct {
	Webhook WebhookConfig `mapstructure:"webhook"`
	// MaxAttempts is how many failed attempts make a notification dead.
	MaxAttempts int `mapstructure:"max_attempts"`
	// Backoff is the wait after a first failed attempt; it doubles with each
	// further one (up to an hour), with jitter.
	Backoff time.Duration `mapstructure:"backoff"`
	// PollInterval is how often `notify send --follow` looks for due
	// notifications when no signal wakes it (always, through a pooler).
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// WebhookConfig is the webhook sink's receiver.
type WebhookConfig struct {
	URL string `mapstructure:"url"`
	// Secret signs every delivery: whsec_ and base64, never printed.
	Secret  string        `mapstructure:"secret"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// CheckoutConfig configures the interactive checkout.
type CheckoutConfig struct {
	// AuthorizedKeys is a file in OpenSSH authorized_keys format: the public
	// keys that may open `checkout --serve` over SSH (none: serving is refused).
	AuthorizedKeys string `mapstructure:"authorized_keys"`
}

// BackupConfig is the embedded cluster's continuous backup.
type BackupConfig struct {
	// Dir is where the WAL streams and base backups go ("" for no backup),
	// ideally on another disk.
	Dir string `mapstructure:"dir"`
	// Mode is synchronous (a commit returns once its WAL is in Dir) or
	// asynchronous (the WAL streams there; the server does not wait).
	Mode string `mapstructure:"mode"`
	// Keep is how many base backups `db backup` keeps.
	Keep int `mapstructure:"keep"`
	// Wait bounds how long, in synchronous mode, a saga's commit waits for
	// the backup to confirm it; past it the outcome is unknown (exit 3) and
	// `saga recover` finishes the saga.
	Wait time.Duration `mapstructure:"wait"`
}

// Defaults of the saga's lease and of a provider call's deadline.
const (
	DefaultLease          = 30 * time.Second
	DefaultPaymentTimeout = 30 * time.Second
)

// defaults lists every key: viper only unmarshals environment-only keys it
// knows. The payment providers' keys and defaults come from their sections.
func defaults() map[string]any {
	d := map[string]any{
		"database_url":                 "",
		"database_read_url":            "",
		"data_dir":                     defaultDataDir(),
		"output":                       "table",
		"max_conns":                    16,
		"payment.sandbox.decline_over": 1_000_000,
		"saga.compensation_attempts":   3,
		"saga.lease":                   DefaultLease,
		"payment.timeout":              DefaultPaymentTimeout,
		"payment.provider":             ProviderSandbox,
		"payment.http_timeout":         10 * time.Second,
		"payment.approval_timeout":     5 * time.Minute,
		"payment.callback.listen":      "",
		"payment.callback.public_url":  "",
		"connect_timeout":              5 * time.Second,
		"command_timeout":              30 * time.Second,
		"retention":                    "",
		"notify.webhook.url":           "",
		"notify.webhook.secret":        "",
		"notify.webhook.timeout":       10 * time.Second,
		"notify.max_attempts":          8,
		"notify.backoff":               5 * time.Second,
		"notify.poll_interval":         5 * time.Second,
		"checkout.authorized_keys":     "",
		"backup.dir":                   "",
		"backup.mode":                  "synchronous",
		"backup.keep":                  2,
		"backup.wait":                  10 * time.Second,
	}
	for _, p := range payment.Providers() {
		for tag, f := range sectionFields(p.Settings()) {
			d[p.Key(tag)] = f.Interface()
		}
	}
	return d
}

// sectionFields maps a provider section's keys to its fields.
func sectionFields(s payment.Settings) map[string]reflect.Value {
	v := reflect.ValueOf(s).Elem()
	fields := map[string]reflect.Value{}
	for i := 0; i < v.NumField(); i++ {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("mapstructure"), ","); tag != "" && tag != "-" {
			fields[tag] = v.Field(i)
		}
	}
	return fields
}

// loadProviders reads every registered provider's section.
func loadProviders(v *viper.Viper) (map[shop.PaymentMethod]payment.Settings, error) {
	out := map[shop.PaymentMethod]payment.Settings{}
	for _, p := range payment.Providers() {
		s, sub := p.Settings(), viper.New()
		for tag := range sectionFields(s) {
			sub.Set(tag, v.Get(p.Key(tag))) // v.Get: flag > env > file > default, key by key
		}
		if err := sub.Unmarshal(s); err != nil {
			return nil, fmt.Errorf("payment.%s: %v", p.Section, err)
		}
		out[p.Method] = s
	}
	return out, nil
}

// Flags maps global flag names to config keys.
var Flags = map[string]string{
	"database-url": "database_url",
	"data-dir":     "data_dir",
	"output":       "output",

	"database-read-url": "database_read_url",
}

// Load reads the configuration. flags holds the global flags (already parsed);
// configFile is the value of --config ("" for the default search).
func Load(flags *pflag.FlagSet, configFile string) (*Config, error) {
	v := viper.New()
	for k, d := range defaults() {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix("RABBITPAY")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for flag, key := range Flags {
		if f := flags.Lookup(flag); f != nil {
			if err := v.BindPFlag(key, f); err != nil {
				return nil, err
			}
		}
	}
	if configFile == "" {
		configFile = os.Getenv("RABBITPAY_CONFIG")
	}
	explicit := configFile != ""
	if !explicit {
		configFile = findDefaultFile()
	}
	var warnings []string
	if configFile != "" {
		w, err := checkFile(configFile)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
		v.SetConfigFile(configFile)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			var pathErr *os.PathError
			if errors.As(err, &pathErr) || !explicit {
				return nil, fmt.Errorf("cannot read config file %s: %v", configFile, pathErrText(err))
			}
			return nil, fmt.Errorf("config file %s is not valid YAML: %s", configFile, yamlReason(err))
		}
		w, err = checkKeys(configFile)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
	}
	if err := checkEnv(); err != nil {
		return nil, err
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return nil, fmt.Errorf("config file %s: %v", configFile, err)
	}
	providers, err := loadProviders(v)
	if err != nil {
		return nil, err
	}
	c.Payment.Providers = providers
	c.ConfigFile = configFile
	c.Warnings = warnings
	if c.Failpoints = os.Getenv("RABBITPAY_FAILPOINTS"); c.Failpoints != "" {
		c.Warnings = append(c.Warnings, fmt.Sprintf("failpoints are on (RABBITPAY_FAILPOINTS=%s): saga steps will fail or crash on purpose", c.Failpoints))
	}
	switch c.Output {
	case "table", "json", "csv":
	default:
		return nil, fmt.Errorf("output format %q is not one of table, json, csv", c.Output)
	}
	if c.MaxConns < 1 {
		return nil, fmt.Errorf("max_conns %d must be at least 1", c.MaxConns)
	}
	if c.Saga.CompensationAttempts < 1 {
		return nil, fmt.Errorf("saga.compensation_attempts %d must be at least 1", c.Saga.CompensationAttempts)
	}
	if c.Saga.Lease < time.Second {
		return nil, fmt.Errorf("saga.lease %s must be at least 1s", c.Saga.Lease)
	}
	if c.Payment.Timeout < 100*time.Millisecond {
		return nil, fmt.Errorf("payment.timeout %s must be at least 100ms", c.Payment.Timeout)
	}
	if c.CommandTimeout <= 0 {
		return nil, fmt.Errorf("command_timeout %s must be positive", c.CommandTimeout)
	}
	if c.ConnectTimeout <= 0 {
		return nil, fmt.Errorf("connect_timeout %s must be positive", c.ConnectTimeout)
	}
	if c.Retention != "" {
		if _, err := shop.ParseAge(c.Retention); err != nil {
			return nil, fmt.Errorf("retention: %v", err)
		}
	}
	if err := c.Payment.check(); err != nil {
		return nil, err
	}
	if c.Notify.MaxAttempts < 1 {
		return nil, fmt.Errorf("notify.max_attempts %d must be at least 1", c.Notify.MaxAttempts)
	}
	switch {
	case c.Notify.Webhook.Timeout <= 0:
		return nil, fmt.Errorf("notify.webhook.timeout %s must be positive", c.Notify.Webhook.Timeout)
	case c.Notify.PollInterval <= 0:
		return nil, fmt.Errorf("notify.poll_interval %s must be positive", c.Notify.PollInterval)
	case c.Notify.Backoff < 0:
		return nil, fmt.Errorf("notify.backoff %s must not be negative", c.Notify.Backoff)
	}
	if c.Backup.Mode != "synchronous" && c.Backup.Mode != "asynchronous" {
		return nil, fmt.Errorf("backup.mode %q is not one of synchronous, asynchronous", c.Backup.Mode)
	}
	if c.Backup.Keep < 1 {
		return nil, fmt.Errorf("backup.keep %d must be at least 1", c.Backup.Keep)
	}
	if c.Backup.Wait < time.Second {
		return nil, fmt.Errorf("backup.wait %s must be at least 1s", c.Backup.Wait)
	}
	if c.Payment.Sandbox.DeclineOver < 0 {
		return nil, fmt.Errorf("payment.sandbox.decline_over %d must not be negative", c.Payment.Sandbox.DeclineOver)
	}
	return &c, nil
}

// yamlReason is a YAML parse error on one line, in a reader's words: the
// library's own spreads its reasons over lines after a heading.
func yamlReason(err error) string {
	s := strings.TrimPrefix(err.Error(), "While parsing config: ")
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:")
	if i := strings.Index(s, "cannot unmarshal !!"); i >= 0 { // the whole file is a list or a single value
		s = s[:i] + "the file is not keys and values (output: json)"
	}
	s = strings.ReplaceAll(s, "yaml: ", "")
	return strings.Join(strings.Fields(s), " ")
}

func pathErrText(err error) string {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// findDefaultFile returns ./rabbitpay.yaml, else $XDG_CONFIG_HOME/rabbitpay/config.yaml, else "".
func findDefaultFile() string {
	candidates := []string{"rabbitpay.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		candidates = append(candidates, filepath.Join(dir, "rabbitpay", "config.yaml"))
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// RootDataDir is the default data dir as root: the embedded cluster then runs
// as an unprivileged user, who can reach /var/lib but not root's 0700 home,
// and rabbitpay changes no directory's mode to let it in.
const RootDataDir = "/var/lib/rabbitpay"

// defaultDataDir is $XDG_DATA_HOME/rabbitpay, else ~/.local/share/rabbitpay;
// as root (without XDG_DATA_HOME) /var/lib/rabbitpay, unless a cluster made
// by an earlier rabbitpay already lives in ~/.local/share/rabbitpay.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "rabbitpay")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "rabbitpay")
	}
	inHome := filepath.Join(home, ".local", "share", "rabbitpay")
	if os.Geteuid() == 0 {
		if _, err := os.Stat(filepath.Join(inHome, "pgdata", "PG_VERSION")); err != nil {
			return RootDataDir
		}
	}
	return inHome
}

// check validates the payment settings. Live mode needs the callback's
// public URL; each method's own keys are asked for only when an order
// chooses it (app.Gateway), so a shop can sell with the providers it has.
func (p *PaymentConfig) check() error {
	if p.HTTPTimeout < 100*time.Millisecond {
		return fmt.Errorf("payment.http_timeout %s must be at least 100ms", p.HTTPTimeout)
	}
	if p.ApprovalTimeout < time.Second {
		return fmt.Errorf("payment.approval_timeout %s must be at least 1s", p.ApprovalTimeout)
	}
	switch p.Provider {
	case ProviderSandbox:
		return nil
	case ProviderLive:
	default:
		return fmt.Errorf("payment.provider %q is not one of sandbox, live", p.Provider)
	}
	if p.Callback.PublicURL == "" && p.Callback.Listen != "" {
		p.Callback.PublicURL = "http://" + p.Callback.Listen
	}
	if p.Callback.PublicURL == "" {
		return fmt.Errorf("payment.provider is live but payment.callback.public_url is not set (RABBITPAY_PAYMENT_CALLBACK_PUBLIC_URL)")
	}
	if pu, err := url.Parse(p.Callback.PublicURL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return fmt.Errorf("payment.callback.public_url %q is not an http(s) URL", p.Callback.PublicURL)
	}
	for _, pr := range payment.Providers() {
		if s := p.Providers[pr.Method]; s != nil {
			if err := s.Check(); err != nil {
				return err
			}
		}
	}
	return nil
}
