package config

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"os/user"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/viper"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// checkFile checks a config file the way ssh checks its files: one that
// belongs to another user (root's files are accepted: root can change
// anything anyway, and system-wide files are root's), or that group or
// others can write to, is refused, because whoever can change it controls
// what rabbitpay does with the operator's database and payments. A symbolic
// link is judged by its target, and must itself belong to the user or root.
func checkFile(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil // the read reports it
	}
	me := uint32(os.Geteuid())
	if li, err := os.Lstat(path); err == nil && li.Mode()&os.ModeSymlink != 0 {
		if uid := ownerOf(li); uid != me && uid != 0 {
			return nil, fmt.Errorf("config file %s is a symbolic link that belongs to %s, not to you: refusing to use it", path, userName(uid))
		}
	}
	if uid := ownerOf(fi); uid != me && uid != 0 {
		return nil, fmt.Errorf("config file %s belongs to %s, not to you: refusing to use it (whoever can change it controls rabbitpay); copy it if you trust it", path, userName(uid))
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("config file %s can be changed by other users (mode %04o): refusing to use it; run chmod go-w %s", path, perm, path)
	}
	return nil, nil
}

func ownerOf(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return uint32(os.Geteuid())
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return "user " + u.Username
	}
	return fmt.Sprintf("user id %d", uid)
}

// knownKeys maps every config key to the Go type of its Config field, from
// the Config struct's mapstructure tags (so a new field is a known key), plus
// the defaults.
func knownKeys() map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if tag == "-" || !f.IsExported() {
				continue
			}
			if tag == "" {
				tag = strings.ToLower(f.Name)
			}
			key := prefix + strings.ToLower(tag)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
				walk(key+".", f.Type)
				continue
			}
			keys[key] = f.Type
		}
	}
	walk("", reflect.TypeOf(Config{}))
	for k, d := range defaults() {
		if _, ok := keys[k]; !ok {
			keys[k] = reflect.TypeOf(d)
		}
	}
	return keys
}

// secretKey reports whether a key's name says it holds a secret (payment keys and the like).
func secretKey(key string) bool {
	last := key[strings.LastIndexByte(key, '.')+1:]
	if last == "authorized_keys" { // a path to public keys
		return false
	}
	for _, w := range []string{"password", "secret", "token", "key"} {
		if strings.Contains(last, w) {
			return true
		}
	}
	return false
}

// checkKeys reads the file's own keys: failpoints is refused, unknown keys
// are warned about, a value of the wrong type is refused naming the key, the
// file and the expected type, and a secret in a file others can read is
// warned about.
func checkKeys(path string) ([]string, error) {
	fv := viper.New()
	fv.SetConfigFile(path)
	fv.SetConfigType("yaml")
	if err := fv.ReadInConfig(); err != nil {
		return nil, nil // the main read reports it
	}
	known := knownKeys()
	var warnings, secrets []string
	keys := fv.AllKeys()
	sort.Strings(keys)
	for _, k := range keys {
		if k == "failpoints" || strings.HasPrefix(k, "failpoints.") {
			return nil, fmt.Errorf("config file %s sets failpoints, which only the RABBITPAY_FAILPOINTS environment variable may set (a file could make every order crash): remove the key", path)
		}
		t, ok := known[k]
		if !ok {
			if prefixOfKnown(k, known) {
				return nil, fmt.Errorf("config file %s: %s must be a mapping of keys, not a single value", path, k)
			}
			warnings = append(warnings, fmt.Sprintf("config file %s: unknown key %q (ignored)", path, k))
			continue
		}
		val := fv.Get(k)
		if expected := badValue(val, t); expected != "" {
			return nil, fmt.Errorf("config file %s: %s is %s, expected %s", path, k, show(val), expected)
		}
		if s, ok := val.(string); ok {
			// A file's values cross the boundary as flags and the environment do.
			if err := shop.CheckText(fmt.Sprintf("config file %s: %s", path, k), s, shop.MaxInputLen); err != nil {
				return nil, err
			}
		}
		if s, _ := val.(string); s != "" && (secretKey(k) || (k == "database_url" || k == "database_read_url") && urlHasPassword(s)) {
			secrets = append(secrets, k)
		}
	}
	if fi, err := os.Stat(path); err == nil && len(secrets) > 0 && fi.Mode().Perm()&0o044 != 0 {
		warnings = append(warnings, fmt.Sprintf("config file %s holds a secret (%s) and other users can read it (mode %04o): run chmod 600 %s",
			path, strings.Join(secrets, ", "), fi.Mode().Perm(), path))
	}
	return warnings, nil
}

// checkEnv checks RABBITPAY_* variables for known keys the same way, naming the variable.
func checkEnv() error {
	for k, t := range knownKeys() {
		name := "RABBITPAY_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		if val, ok := os.LookupEnv(name); ok && val != "" {
			if expected := badValue(val, t); expected != "" {
				return fmt.Errorf("environment variable %s is %q, expected %s", name, val, expected)
			}
		}
	}
	return nil
}

func prefixOfKnown(k string, known map[string]reflect.Type) bool {
	for kk := range known {
		if strings.HasPrefix(kk, k+".") {
			return true
		}
	}
	return false
}

func urlHasPassword(s string) bool {
	if u, err := url.Parse(s); err == nil {
		if _, ok := u.User.Password(); ok || u.Query().Has("password") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(s), "password=")
}

func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "empty"
	case string:
		return strconv.Quote(v)
	default:
		return fmt.Sprintf("%v", v)
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

// badValue returns what type v should have been for a field of type t, or ""
// when it fits.
func badValue(v any, t reflect.Type) string {
	if t == durationType {
		if s, ok := v.(string); ok {
			if _, err := time.ParseDuration(s); err == nil {
				return ""
			}
		}
		return "a duration with a unit, such as 5s or 1m30s"
	}
	switch t.Kind() {
	case reflect.String:
		switch v.(type) {
		case []any, map[string]any:
			return "a string"
		}
		return ""
	case reflect.Bool:
		switch v := v.(type) {
		case bool:
			return ""
		case string:
			if _, err := strconv.ParseBool(v); err == nil {
				return ""
			}
		}
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		want := fmt.Sprintf("a whole number between %d and %d", int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits))
		var n int64
		switch v := v.(type) {
		case int:
			n = int64(v)
		case int64:
			n = v
		case uint64:
			if v > math.MaxInt64 {
				return want
			}
			n = int64(v)
		case float64:
			if v != math.Trunc(v) || math.Abs(v) > 1<<62 {
				return want
			}
			n = int64(v)
		case string:
			p, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return want
			}
			n = p
		default:
			return want
		}
		if n < int64(math.MinInt64)>>(64-bits) || n > int64(math.MaxInt64)>>(64-bits) {
			return want
		}
		return ""
	case reflect.Float32, reflect.Float64:
		switch v := v.(type) {
		case int, int64, float64:
			return ""
		case string:
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				return ""
			}
		}
		return "a number"
	}
	return ""
}
