package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// recorder builds steps that log what ran, failing where told.
type recorder struct {
	ran  []string
	fail map[string]error
	seen []string
}

func (r *recorder) action(name string) Action {
	return func(ctx context.Context) (string, error) {
		r.ran = append(r.ran, name)
		if err, ok := r.fail[name]; ok {
			return "", err
		}
		return name + " done", nil
	}
}

func (r *recorder) steps() []Step {
	return []Step{
		{Name: "a", Do: r.action("a"), UndoName: "undo_a", Undo: r.action("undo_a"), Interruptible: true},
		{Name: "b", Do: r.action("b"), UndoName: "undo_b", Undo: r.action("undo_b"), Interruptible: true},
		{Name: "c", Do: r.action("c")},
	}
}

func (r *recorder) runner() *Runner {
	return &Runner{Attempts: 3, Observer: shop.ObserverFunc(func(e shop.SagaEvent) {
		r.seen = append(r.seen, string(e.Kind[0])+":"+e.Name+":"+string(e.Outcome))
	})}
}

func TestRunnerCompensatesInReverse(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		fail map[string]error
		ran  []string
		step string
	}{
		{"all ok", nil, []string{"a", "b", "c"}, ""},
		{"first fails", map[string]error{"a": boom}, []string{"a"}, "a"},
		{"second fails", map[string]error{"b": boom}, []string{"a", "b", "undo_a"}, "b"},
		{"third fails", map[string]error{"c": boom}, []string{"a", "b", "c", "undo_b", "undo_a"}, "c"},
		{"uncertain step is undone too", map[string]error{"b": Uncertain(boom)}, []string{"a", "b", "undo_b", "undo_a"}, "b"},
		{"unknown outcome halts", map[string]error{"b": shop.UnknownOutcome("b", boom)}, []string{"a", "b"}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{fail: tc.fail}
			res := r.runner().Run(context.Background(), r.steps())
			if !slices.Equal(r.ran, tc.ran) || res.FailedStep != tc.step {
				t.Fatalf("ran %v, failed step %q; want %v, %q", r.ran, res.FailedStep, tc.ran, tc.step)
			}
			if halted := errors.Is(res.CompensationErr, shop.ErrIncomplete); halted != (tc.name == "unknown outcome halts") {
				t.Fatalf("compensation error %v", res.CompensationErr)
			}
		})
	}
}

func TestCompensationRetriesThenGoesOn(t *testing.T) {
	r := &recorder{fail: map[string]error{"c": errors.New("boom"), "undo_b": errors.New("down")}}
	res := r.runner().Run(context.Background(), r.steps())
	want := []string{"a", "b", "c", "undo_b", "undo_b", "undo_b", "undo_a"}
	if !slices.Equal(r.ran, want) {
		t.Fatalf("ran %v, want %v", r.ran, want)
	}
	if res.CompensationErr == nil || res.CompensationErr.Error() != "undo_b: down" {
		t.Fatalf("compensation error %v", res.CompensationErr)
	}
	if !slices.Contains(r.seen, "c:undo_b:retry") || !slices.Contains(r.seen, "c:undo_b:failed") || !slices.Contains(r.seen, "c:undo_a:ok") {
		t.Fatalf("events %v", r.seen)
	}
}

func TestFencedCompensationStopsAtOnce(t *testing.T) {
	r := &recorder{fail: map[string]error{"c": errors.New("boom"), "undo_b": shop.Fenced("taken over")}}
	res := r.runner().Run(context.Background(), r.steps())
	if want := []string{"a", "b", "c", "undo_b"}; !slices.Equal(r.ran, want) || !errors.Is(res.CompensationErr, shop.ErrFenced) {
		t.Fatalf("ran %v (want %v), error %v", r.ran, want, res.CompensationErr)
	}
}

// A cancelled context (Ctrl-C) stops before the next interruptible step and
// compensates; a step past the point of no return still runs.
func TestInterruptStopsOnlyInterruptibleSteps(t *testing.T) {
	for _, after := range []string{"a", "b"} {
		r := &recorder{}
		ctx, cancel := context.WithCancel(context.Background())
		run := r.runner()
		run.Observer = shop.ObserverFunc(func(e shop.SagaEvent) {
			if e.Name == after {
				cancel()
			}
		})
		res := run.Run(ctx, r.steps())
		if after == "a" {
			if !slices.Equal(r.ran, []string{"a", "undo_a"}) || !errors.Is(res.Err, shop.ErrInterrupted) || res.CompensationErr != nil {
				t.Fatalf("interrupted after a: ran %v, %+v", r.ran, res)
			}
		} else if !slices.Equal(r.ran, []string{"a", "b", "c"}) || res.FailedStep != "" {
			t.Fatalf("interrupted after b: ran %v, %+v", r.ran, res)
		}
		cancel()
	}
}

func TestStepsRunOnAContextCtrlCDoesNotReach(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stepErr error
	steps := []Step{{Name: "slow", Do: func(ctx context.Context) (string, error) {
		cancel() // Ctrl-C arrives mid-step
		stepErr = ctx.Err()
		return "", nil
	}}}
	if res := (&Runner{}).Run(ctx, steps); res.FailedStep != "" || stepErr != nil {
		t.Fatalf("the step saw %v; result %+v", stepErr, res)
	}
}

// Failpoints are checked against the steps they are given: a step or a
// compensation by name, never a step without Do, each in its own form.
func TestFailpointsCheckedAgainstSteps(t *testing.T) {
	r := &recorder{}
	steps := append(r.steps(), Step{Name: "d", Detail: "reported"})
	const names = "a, b, c, undo_b, undo_a"
	cases := []struct{ spec, err string }{
		{"", ""},
		{"a=error;after_b=crash", ""},
		{" undo_a=error, before_c=crash ", ""},
		{"a", `failpoint "a" is not NAME=ACTION`},
		{"e=error", `failpoint "e" names no step; steps are ` + names},
		{"nope=crash", `failpoint "nope" names no step; steps are ` + names},
		{"d=error", `failpoint "d" names no step; steps are ` + names},
		{"after_d=crash", `failpoint "after_d" names no step; steps are ` + names},
		{"a=crash", `failpoint "a=crash": use STEP=error, before_STEP=crash or after_STEP=crash`},
		{"a=error; after_a=error", `failpoint " after_a=error": use STEP=error, before_STEP=crash or after_STEP=crash`},
		{"before_undo_a=boom", `failpoint "before_undo_a=boom": use STEP=error, before_STEP=crash or after_STEP=crash`},
	}
	for _, tc := range cases {
		fp, err := ParseFailpoints(tc.spec)
		if err == nil {
			err = fp.Check(steps)
		}
		if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
			t.Errorf("%q: error %v, want %q", tc.spec, err, tc.err)
		}
	}
	// The same names are another saga's steps.
	fp, _ := ParseFailpoints("e=error")
	if err := fp.Check([]Step{{Name: "e", Do: r.action("e")}}); err != nil {
		t.Errorf("e is a step: %v", err)
	}
}

// A failpoint fails the step or compensation it names, in place of its action.
func TestFailpointsFailWhatTheyName(t *testing.T) {
	r := &recorder{}
	run := r.runner()
	run.Failpoints, _ = ParseFailpoints("b=error;undo_a=error")
	res := run.Run(context.Background(), r.steps())
	if !slices.Equal(r.ran, []string{"a"}) || res.FailedStep != "b" || res.Err.Error() != "failpoint b=error" {
		t.Fatalf("ran %v, %+v", r.ran, res)
	}
	if res.CompensationErr == nil || res.CompensationErr.Error() != "undo_a: failpoint undo_a=error" {
		t.Fatalf("compensation error %v", res.CompensationErr)
	}
}

// Steps are found by name; a step without Do reports its Detail.
func TestStepsByName(t *testing.T) {
	r := &recorder{}
	steps := append(Steps(r.steps()), Step{Name: "d", Detail: "reported"})
	if got := steps.Through("b"); len(got) != 2 || got[1].Name != "b" {
		t.Fatalf("through b: %v", got)
	}
	if got := steps.After("b"); len(got) != 2 || got[0].Name != "c" {
		t.Fatalf("after b: %v", got)
	}
	var details []string
	run := &Runner{Observer: shop.ObserverFunc(func(e shop.SagaEvent) { details = append(details, e.Detail) })}
	res := run.Resume(context.Background(), steps.Through("b"), steps.After("b"))
	if res.FailedStep != "" || !slices.Equal(r.ran, []string{"c"}) || !slices.Equal(details, []string{"c done", "reported"}) {
		t.Fatalf("resumed after b: ran %v, events %v, %+v", r.ran, details, res)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown step name was not caught")
		}
	}()
	steps.After("nope")
}

// The trail keeps a step's and a compensation's error as Describe words it.
func TestDescribeWordsTheTrail(t *testing.T) {
	r := &recorder{fail: map[string]error{"b": errors.New("failed to connect:\n  refused"), "undo_a": errors.New("x:\ny")}}
	var details []string
	run := &Runner{Attempts: 1, Observer: shop.ObserverFunc(func(e shop.SagaEvent) {
		if e.Outcome == shop.OutcomeFailed {
			details = append(details, e.Detail)
		}
	}), Describe: func(err error) error { return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", "")) }}
	res := run.Run(context.Background(), r.steps())
	if want := []string{"failed to connect:  refused", "x:y"}; !slices.Equal(details, want) || res.Err.Error() != want[0] {
		t.Fatalf("failed details %q, error %v; want %q", details, res.Err, want)
	}
}
