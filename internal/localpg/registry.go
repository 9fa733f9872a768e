package localpg

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// registryFile lists, one a line, every data dir in which this user's
// rabbitpay made or restored a shop: $XDG_STATE_HOME/rabbitpay/shops, else
// ~/.local/state/rabbitpay/shops. A data dir on it whose cluster is gone
// (the whole dir deleted, a disk that did not mount) is refused instead of
// silently made anew, even when no backup dir remembers it. It sits outside
// the data dir on purpose; on the same disk it shares that disk's fate, which
// the backup dir (on another disk) does not.
func registryFile() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "rabbitpay", "shops")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".local", "state", "rabbitpay", "shops")
}

func registered() []string {
	f, err := os.Open(registryFile())
	if err != nil {
		return nil
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		dirs = append(dirs, sc.Text())
	}
	return dirs
}

// Remember puts the data dir on the registry (throwaway clusters stay off
// it). Best effort: a registry that cannot be written only weakens the
// refusal of a lost shop.
func (c *Cluster) Remember() {
	path := registryFile()
	if c.Throwaway || path == "" || strings.ContainsAny(c.Dir, "\n\r") || slices.Contains(registered(), c.Dir) {
		return
	}
	if os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	f.WriteString(c.Dir + "\n")
	f.Close()
}

// remembered reports whether a shop was made or restored in the data dir.
func (c *Cluster) remembered() bool { return slices.Contains(registered(), c.Dir) }
