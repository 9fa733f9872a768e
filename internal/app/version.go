package app

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
)

// VersionInfo says which rabbitpay this is.
type VersionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
	// Schema is the number of the last migration this binary carries.
	Schema int32 `json:"schema"`
}

func (v VersionInfo) String() string {
	return fmt.Sprintf("%s (commit %s, %s, schema %d)", v.Version, v.Commit, v.Go, v.Schema)
}

// Version reads the build's module version and commit.
func Version() VersionInfo {
	v := VersionInfo{Version: "(devel)", Commit: "unknown", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v.Commit = s.Value[:12]
			}
			if s.Key == "vcs.modified" && s.Value == "true" {
				v.Commit += "+dirty"
			}
		}
	}
	v.Schema, _ = postgres.SchemaTarget()
	return v
}
