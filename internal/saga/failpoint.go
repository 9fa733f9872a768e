package saga

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// Failpoints make chosen saga points fail or crash, for tests and demos:
// RABBITPAY_FAILPOINTS="payment=error;after_payment=crash". Off unless set.
type Failpoints map[string]string

// Points lists the steps and compensations failpoints can name.
var Points = []string{"reduce_stock", "payment", "create_order", "refund", "restore_stock"}

// ParseFailpoints parses "name=action;..." where action is error (for a step
// or compensation) or crash (for before_STEP / after_STEP).
func ParseFailpoints(spec string) (Failpoints, error) {
	fp := Failpoints{}
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ';' || r == ',' }) {
		name, action, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("failpoint %q is not NAME=ACTION", part)
		}
		base := strings.TrimPrefix(strings.TrimPrefix(name, "before_"), "after_")
		if !slices.Contains(Points, base) {
			return nil, fmt.Errorf("failpoint %q names no step; steps are %s", name, strings.Join(Points, ", "))
		}
		switch {
		case action == "error" && base == name:
		case action == "crash" && base != name:
		default:
			return nil, fmt.Errorf("failpoint %q: use STEP=error, before_STEP=crash or after_STEP=crash", part)
		}
		fp[name] = action
	}
	return fp, nil
}

// Err returns an error when name is set to fail.
func (f Failpoints) Err(name string) (string, error) {
	if f[name] == "error" {
		return "", fmt.Errorf("failpoint %s=error", name)
	}
	return "", nil
}

// Crash ends the process at once, as kill -9 would, when point is set to crash.
func (f Failpoints) Crash(point string) {
	if f[point] == "crash" {
		fmt.Fprintf(os.Stderr, "failpoint %s=crash: killing the process\n", point)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
