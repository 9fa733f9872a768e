package saga

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
)

// Failpoints make chosen saga points fail or crash, for tests and demos:
// "STEP=error;after_STEP=crash" (RABBITPAY_FAILPOINTS). Off when empty.
type Failpoints []failpoint

// failpoint is one NAME=ACTION, with the text it was written as.
type failpoint struct{ name, action, spec string }

// ParseFailpoints parses "name=action;..." (or comma-separated). Which names
// and actions a saga accepts is Check's business.
func ParseFailpoints(spec string) (Failpoints, error) {
	var fp Failpoints
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ';' || r == ',' }) {
		name, action, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("failpoint %q is not NAME=ACTION", part)
		}
		fp = append(fp, failpoint{name, action, part})
	}
	return fp, nil
}

// Check refuses failpoints that name none of steps' points: STEP=error makes
// a step or compensation fail, before_STEP=crash or after_STEP=crash kills
// the process there. A step without Do cannot fail, so no failpoint names it.
func (f Failpoints) Check(steps []Step) error {
	points := points(steps)
	for _, p := range f {
		base := strings.TrimPrefix(strings.TrimPrefix(p.name, "before_"), "after_")
		if !slices.Contains(points, base) {
			return fmt.Errorf("failpoint %q names no step; steps are %s", p.name, strings.Join(points, ", "))
		}
		switch {
		case p.action == "error" && base == p.name:
		case p.action == "crash" && base != p.name:
		default:
			return fmt.Errorf("failpoint %q: use STEP=error, before_STEP=crash or after_STEP=crash", p.spec)
		}
	}
	return nil
}

// points lists the steps and compensations failpoints can name, in the
// order a run that fails at its last step meets them.
func points(steps []Step) []string {
	var points, undos []string
	for _, s := range steps {
		if s.Do != nil {
			points = append(points, s.Name)
		}
		if s.Undo != nil {
			undos = append(undos, s.UndoName)
		}
	}
	slices.Reverse(undos)
	return append(points, undos...)
}

func (f Failpoints) action(name string) string {
	for _, p := range f {
		if p.name == name {
			return p.action
		}
	}
	return ""
}

// Err returns an error when name is set to fail.
func (f Failpoints) Err(name string) (string, error) {
	if f.action(name) == "error" {
		return "", fmt.Errorf("failpoint %s=error", name)
	}
	return "", nil
}

// Crash ends the process at once, as kill -9 would, when point is set to crash.
func (f Failpoints) Crash(point string) {
	if f.action(point) == "crash" {
		fmt.Fprintf(os.Stderr, "failpoint %s=crash: killing the process\n", point)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
