// Package saga runs a synchronous saga: steps in order and, when one fails,
// the compensations of the steps before it in reverse, each retried a bounded
// number of times. Every step and compensation is reported to an Observer as
// it happens. Durability is the steps' business: each step commits its effect
// together with its saga-log update.
package saga

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Action does a step or a compensation and returns a detail line for the log.
type Action func(ctx context.Context) (detail string, err error)

// Step is a forward step and the compensation that undoes it (nil: none).
type Step struct {
	Name string
	// Do is nil for a step whose effect an earlier step committed: it cannot
	// fail, and only reports Detail.
	Do       Action
	Detail   string
	Undo     Action
	UndoName string
	// Interruptible steps are not started once the caller's context is done
	// (Ctrl-C): the saga compensates instead. Steps after the point of no
	// return (the charge) are not interruptible: the saga finishes forward.
	Interruptible bool
	// Timeout bounds the step (StepTimeout when 0): a step that waits on a
	// person (the buyer's approval) needs longer.
	Timeout time.Duration
}

// Steps are a saga's steps in the order they run.
type Steps []Step

// Through returns the steps up to and including the one called name.
func (s Steps) Through(name string) Steps { return s[:s.index(name)+1] }

// After returns the steps after the one called name.
func (s Steps) After(name string) Steps { return s[s.index(name)+1:] }

func (s Steps) index(name string) int {
	i := slices.IndexFunc(s, func(st Step) bool { return st.Name == name })
	if i < 0 {
		panic(fmt.Sprintf("saga: no step %q", name)) // a typo in the caller, not an input
	}
	return i
}

// uncertain marks a step failure that may nonetheless have taken effect
// (a payment whose outcome is unknown): its own compensation runs too.
type uncertain struct{ error }

func (u uncertain) Unwrap() error { return u.error }

// Uncertain wraps err to say the failed step may have taken effect.
func Uncertain(err error) error { return uncertain{err} }

// IsUncertain reports whether err says the failed step may have taken effect.
func IsUncertain(err error) bool { return errors.As(err, new(uncertain)) }

// abort marks a step that did nothing and ends the run quietly (no event, no
// compensation): the caller handles it, as with a reused idempotency key.
type abort struct{ error }

func (a abort) Unwrap() error { return a.error }

// Abort wraps err to end the run without reporting or compensating.
func Abort(err error) error { return abort{err} }

// CompensationTimeout bounds how long compensations may run after a failure.
const CompensationTimeout = 2 * time.Minute

// StepTimeout bounds one step: steps run to completion even when the caller
// gives up (a step cut mid-commit would leave its outcome unknown).
const StepTimeout = 2 * time.Minute

// Result is how a run ended.
type Result struct {
	FailedStep string // "" when every step succeeded
	Err        error  // the failing step's error
	// CompensationErr is the first compensation that still failed after every
	// attempt, or the reason none could run (the step's outcome is unknown, or
	// the saga was taken over); nil when everything was compensated.
	CompensationErr error
}

// Runner runs steps with failpoints, retries and an observer.
type Runner struct {
	Observer   shop.Observer
	Failpoints Failpoints
	Attempts   int           // tries per compensation, at least 1
	Backoff    time.Duration // wait between tries, doubled each time
	// OnFailure runs after a step fails and before any compensation, so the
	// durable log says "compensating" before the first compensation acts.
	OnFailure func(ctx context.Context, step string, err error) error
	// Describe rewrites a step's or a compensation's error into the words the
	// trail keeps (a connect error's several lines into one sentence); nil
	// keeps errors as they are.
	Describe func(error) error
}

func (r *Runner) describe(err error) error {
	if err == nil || r.Describe == nil {
		return err
	}
	return r.Describe(err)
}

func (r *Runner) emit(kind shop.EventKind, name string, outcome shop.Outcome, detail string) {
	if r.Observer != nil {
		r.Observer.Event(shop.NewEvent(kind, name, outcome, detail))
	}
}

// Run runs the steps in order. On a failure it compensates the steps that
// succeeded (and the failed one, when its failure is Uncertain), in reverse.
func (r *Runner) Run(ctx context.Context, steps []Step) Result { return r.Resume(ctx, nil, steps) }

// Resume runs rest after steps already done (by an earlier, crashed process);
// on a failure the done steps are compensated too.
func (r *Runner) Resume(ctx context.Context, done, rest []Step) Result {
	steps := append(slices.Clip(done), rest...)
	for i := len(done); i < len(steps); i++ {
		s := steps[i]
		var detail string
		var err error
		if s.Interruptible && ctx.Err() != nil {
			err = shop.Interrupted("interrupted before %s", s.Name)
		} else {
			detail, err = r.do(ctx, s)
		}
		if err == nil {
			r.emit(shop.EventStep, s.Name, shop.OutcomeOK, detail)
			continue
		}
		if errors.As(err, new(abort)) {
			return Result{FailedStep: s.Name, Err: err}
		}
		r.emit(shop.EventStep, s.Name, shop.OutcomeFailed, err.Error())
		return r.Backward(ctx, steps[:i+1], err)
	}
	return Result{}
}

// Backward is the way back after the last of steps failed with err: the
// log is told (OnFailure), then the steps before it are compensated in
// reverse, and the failed one too when its failure is Uncertain. Resume
// takes it on a step's failure; `saga recover` takes it for a crashed
// saga's step it finds failed. An ErrIncomplete failure (the outcome is
// unknown, or the saga is no longer ours) compensates nothing: that could
// undo what another process relies on.
func (r *Runner) Backward(ctx context.Context, steps []Step, err error) Result {
	failed := steps[len(steps)-1]
	res := Result{FailedStep: failed.Name, Err: err}
	if errors.Is(err, shop.ErrIncomplete) {
		res.CompensationErr = err
		return res
	}
	toUndo := steps[:len(steps)-1]
	if IsUncertain(err) {
		toUndo = steps
	}
	// Undoing must not stop halfway because the caller gave up (Ctrl-C):
	// compensations get a context of their own, bounded in time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CompensationTimeout)
	defer cancel()
	if r.OnFailure != nil {
		if ferr := r.OnFailure(ctx, failed.Name, err); ferr != nil {
			res.CompensationErr = ferr
			return res
		}
	}
	res.CompensationErr = r.Compensate(ctx, toUndo)
	return res
}

// do runs a step, or fails or crashes it as the failpoints say, on a context
// the caller's cancellation does not reach, bounded by its timeout.
func (r *Runner) do(ctx context.Context, s Step) (string, error) {
	if s.Do == nil {
		return s.Detail, nil
	}
	r.Failpoints.Crash("before_" + s.Name)
	if detail, err := r.Failpoints.Err(s.Name); err != nil {
		return detail, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(s.Timeout, StepTimeout))
	defer cancel()
	detail, err := s.Do(ctx)
	return detail, r.describe(err)
}

// Compensate undoes steps in reverse order, trying each compensation up to
// Attempts times. It goes on past a compensation that keeps failing (the
// others are still worth doing) and returns the first such error; it stops
// at once when the saga was taken over.
func (r *Runner) Compensate(ctx context.Context, steps []Step) error {
	var first error
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.Undo == nil {
			continue
		}
		err := r.compensate(ctx, s)
		if err != nil && first == nil {
			first = fmt.Errorf("%s: %w", s.UndoName, err)
		}
		if errors.Is(err, shop.ErrFenced) {
			break
		}
	}
	return first
}

func (r *Runner) compensate(ctx context.Context, s Step) error {
	attempts := max(r.Attempts, 1)
	wait := r.Backoff
	var err error
	for a := 1; a <= attempts; a++ {
		var detail string
		detail, err = r.Failpoints.Err(s.UndoName)
		if err == nil {
			detail, err = s.Undo(ctx)
			err = r.describe(err)
		}
		if err == nil {
			r.emit(shop.EventCompensation, s.UndoName, shop.OutcomeOK, detail)
			return nil
		}
		if a == attempts || ctx.Err() != nil || errors.Is(err, shop.ErrFenced) {
			break
		}
		r.emit(shop.EventCompensation, s.UndoName, shop.OutcomeRetry, fmt.Sprintf("attempt %d of %d: %v", a, attempts, err))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
	r.emit(shop.EventCompensation, s.UndoName, shop.OutcomeFailed, err.Error())
	return err
}
