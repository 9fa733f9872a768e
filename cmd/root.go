// Package cmd is rabbitpay's cobra wiring: flag parsing, validation of
// arguments, rendering. Every command calls a use case in internal/app.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/secret"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1   // the request failed; nothing was left half-done
	ExitUsage       = 2   // bad flags, arguments or input values
	ExitIncomplete  = 3   // something is left unfinished or its outcome is unknown: run 'rabbitpay saga recover'
	ExitInterrupted = 130 // interrupted (Ctrl-C); what was done or undone is printed
)

// IO holds the streams a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

func (s IO) isTTY(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// env is one invocation's shared state: streams, configuration and (lazily) the app.
type env struct {
	IO
	configFile string
	cfg        *config.Config
	a          *app.App
	bounded    context.Context    // the command's context under command_timeout, if any
	cancel     context.CancelFunc // ends it
	// writes is set for a command that may write to the shop (writes).
	writes bool
	// prompting is set while a prompt waits on the terminal for a line the
	// buyer's callback may make unneeded: the next step starts a new line.
	prompting atomic.Bool
}

// writes reports whether cmd may write to the shop: all but the reading
// verbs, dry runs and the db commands that manage the cluster and its
// backup (db prune and db migrate write).
func writes(cmd *cobra.Command) bool {
	if dry, err := cmd.Flags().GetBool("dry-run"); err == nil && dry { // import, prune, reconcile: looking only
		return false
	}
	if p := cmd.Parent(); p != nil && p.Name() == "db" {
		return cmd.Name() == "prune" || cmd.Name() == "migrate" // the others manage the cluster and its backup
	}
	switch cmd.Name() {
	case "list", "show", "export", "version", "help", "completion", "status", "url":
		return false
	}
	return true
}

// app opens the database on first use.
func (e *env) app(ctx context.Context) (*app.App, error) {
	if e.a == nil {
		a, err := app.OpenSaying(ctx, e.cfg, func(msg string) { warn(e.Err, []string{msg}) })
		if err != nil {
			return nil, err
		}
		// With a synchronous backup whose stream is down, every commit would
		// wait for it: a command that writes is refused at once instead.
		if e.writes {
			if err := a.RequireBackup(ctx); err != nil {
				a.Close()
				return nil, err
			}
		}
		a.Warn = func(msg string) { warn(e.Err, []string{msg}) }
		e.a = a
	}
	return e.a, nil
}

func (e *env) format() render.Format { return render.Format(e.cfg.Output) }

func (e *env) print(v any, t render.Tabular) error { return render.Print(e.Out, e.format(), v, t) }

// Main runs rabbitpay with the process's arguments and streams.
func Main() int {
	// A hangup (the terminal or the tmux session closed) interrupts like
	// Ctrl-C, so a checkout's saga in flight finishes or compensates instead
	// of dying mid-step; nobody is left to hang up twice, so later hangups
	// are ignored.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() { // a second Ctrl-C ends the process at once
		<-ctx.Done()
		stop()
		signal.Ignore(syscall.SIGHUP)
	}()
	return Run(ctx, os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
}

// Run executes one command line and returns its exit code.
func Run(ctx context.Context, args []string, ios IO) int {
	e := &env{IO: ios}
	return e.run(ctx, newRoot(e), args)
}

// run executes args on root, reports the error and returns the exit code.
func (e *env) run(ctx context.Context, root *cobra.Command, args []string) int {
	ios := e.IO
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.Err)
	ran, err := root.ExecuteContextC(ctx)
	err = withFlagHint(ran, app.DescribeError(e.cfg, err))
	if e.bounded != nil && errors.Is(e.bounded.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("gave up after %s (command_timeout): the database did not answer in time", e.cfg.CommandTimeout)
	}
	if e.cancel != nil {
		e.cancel()
	}
	if e.a != nil {
		e.a.Close()
	}
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) && !errors.Is(err, shop.ErrInterrupted) {
		err = shop.Interrupted("interrupted; nothing was left half-done")
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.silent {
		return exitCode(err)
	}
	fmt.Fprintln(ios.Err, "rabbitpay: "+secret.Mask(oneLine(err.Error())))
	var detailed interface{ Details() []string }
	if errors.As(err, &detailed) {
		for _, d := range detailed.Details() {
			fmt.Fprintln(ios.Err, "  "+secret.Mask(d))
		}
	}
	return exitCode(err)
}

// exitError carries an exit code (0: decided by the error's kind); silent
// means the command already reported.
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(cmd *cobra.Command, format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format+" (see '%s --help')", append(a, cmd.CommandPath())...)}
}

// exitKinds is the one place the shop's error kinds become exit codes (the
// first kind an error is wins); README's exit-code table and the root help
// say the same. An id, SKU or UUID that matches nothing is bad input, like a
// missing file: the same command fails the same way until it is corrected,
// whereas exit 1 is a well-formed request the shop refused or could not
// carry out (out of stock, declined, already shipped, the server down).
var exitKinds = []struct {
	kind error
	code int
}{
	{shop.ErrIncomplete, ExitIncomplete},
	{shop.ErrInterrupted, ExitInterrupted},
	{shop.ErrInvalid, ExitUsage},
	{shop.ErrNotFound, ExitUsage},
	{shop.ErrConflict, ExitFailure},
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) && ee.code != 0 {
		return ee.code
	}
	for _, k := range exitKinds {
		if errors.Is(err, k.kind) {
			return k.code
		}
	}
	return ExitFailure
}

var (
	badNumberFlag   = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[\w-]+)" flag: strconv\.Parse(\w+): parsing ".*": (.*)$`)
	badDurationFlag = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[\w-]+)" flag: time: `)
	negativeNumber  = regexp.MustCompile(`^unknown shorthand flag: '\d' in (-\d+)$`)
	badFlagValue    = regexp.MustCompile(`^invalid argument ".*" for "(?:-\w, )?(--[\w-]+)" flag: (.*)$`)
)

// flagError rewrites pflag's parse errors (numbers, true/false, durations)
// as one plain sentence.
func flagError(err error) string {
	if m := negativeNumber.FindStringSubmatch(err.Error()); m != nil { // `customer show -1`: pflag reads a flag
		return fmt.Sprintf("%s is not an id: ids are whole numbers from 1", m[1])
	}
	if m := badDurationFlag.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Sprintf("%s %q is not a duration: give a number and a unit (30s, 5m, 1h)", m[2], m[1])
	}
	m := badNumberFlag.FindStringSubmatch(err.Error())
	switch {
	case m == nil:
		if m := badFlagValue.FindStringSubmatch(err.Error()); m != nil { // a flag type's own check (idFlag)
			return m[1] + ": " + m[2]
		}
		return err.Error()
	case m[3] == "Bool":
		return fmt.Sprintf("%s %q is not true or false", m[2], m[1])
	case m[4] == "value out of range":
		return fmt.Sprintf("%s %q is out of range", m[2], m[1])
	}
	return fmt.Sprintf("%s %q is not a whole number", m[2], m[1])
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "rabbitpay",
		Short: "Shop administration over PostgreSQL: customers, products, carts, orders, payments",
		Long: `rabbitpay administers a shop: customers, products, carts, orders (placed by a
compensating saga), payments and deliveries, stored in PostgreSQL.

With no --database-url it starts and reuses its own private PostgreSQL cluster
under --data-dir, so the first command just works.

A product is named by its SKU or id: "#12" is always id 12, "sku:12" the SKU
"12"; a bare number that is one product's id and another's SKU is refused.

Exit codes:
  0    ok
  1    failed or refused (out of stock, declined, already shipped, the
       database down); nothing was left half-done
  2    bad input: flags, arguments, values, files, an unknown command, an id,
       SKU or UUID that matches nothing
  3    something is unfinished or its outcome unknown: run 'rabbitpay saga recover'
  130  interrupted (Ctrl-C); what was done or undone is printed`,
		Example: `  rabbitpay product register --sku A-1 --name "토끼 인형" --price 12000 --stock 5
  rabbitpay product list -o json
  rabbitpay demo`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := checkInput(cmd, args, os.Environ()); err != nil {
				return err
			}
			cfg, err := config.Load(cmd.Root().PersistentFlags(), e.configFile)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			e.cfg = cfg
			warn(e.Err, cfg.Warnings)
			if cmd.Annotations[longRunning] == "" {
				ctx, cancel := context.WithTimeout(cmd.Context(), cfg.CommandTimeout)
				cmd.SetContext(ctx)
				e.bounded, e.cancel = ctx, cancel
			}
			e.writes = writes(cmd)
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&e.configFile, "config", "", "config file (default ./rabbitpay.yaml, then $XDG_CONFIG_HOME/rabbitpay/config.yaml)")
	pf.String("database-url", "", "PostgreSQL URL; empty starts the embedded cluster (env RABBITPAY_DATABASE_URL)")
	pf.String("database-read-url", "", "read replica URL for lists, shows and exports (env RABBITPAY_DATABASE_READ_URL)")
	pf.String("data-dir", "", "where the embedded cluster lives (default $XDG_DATA_HOME/rabbitpay)")
	pf.StringP("output", "o", "table", "output format: table, json or csv")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErr(cmd, "%s", flagError(err))
	})
	root.AddCommand(newCustomerCmd(e), newProductCmd(e), newCartCmd(e), newOrderCmd(e), newPayCmd(e), newDeliverCmd(e), newNotifyCmd(e),
		newSagaCmd(e), newDBCmd(e), newDemoCmd(e), newVersionCmd(e), newCheckoutCmd(e))
	root.Version = app.Version().String()
	root.SetVersionTemplate("rabbitpay {{.Version}}\n")
	// The completion commands now, so that their group refuses an unknown
	// shell too; they keep the writer they are made with.
	root.SetOut(e.Out)
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Example = `  rabbitpay completion bash > /etc/bash_completion.d/rabbitpay
  rabbitpay completion zsh > "${fpath[1]}/_rabbitpay"
  rabbitpay completion fish > ~/.config/fish/completions/rabbitpay.fish`
	}
	refuseUnknownSubcommands(root)
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		group := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 { // a script capturing the output would get help text, not a script
				return usageErr(cmd, "completion needs a shell: bash, zsh, fish or powershell")
			}
			return group(cmd, args)
		}
	}
	// help TOPIC with a topic that is no command: exit 2, as the command would be.
	root.InitDefaultHelpCmd()
	if h, _, err := root.Find([]string{"help"}); err == nil && h != root {
		show := h.Run
		h.Run = nil
		h.RunE = func(cmd *cobra.Command, args []string) error {
			if c, rest, err := root.Find(args); len(args) > 0 && (err != nil || c == nil || len(rest) > 0) {
				return usageErr(cmd, "no help for %q: it is not a rabbitpay command ('rabbitpay help' lists them)", strings.Join(args, " "))
			}
			show(cmd, args)
			return nil
		}
	}
	registerCompletions(e, root)
	return root
}

// longRunning is the annotation of a command that runs long on purpose, with
// bounds of its own (a saga's steps, an import's size, a password prompt):
// command_timeout leaves it alone. Each such command says so itself
// (Annotations: runsLong()).
const longRunning = "rabbitpay/long-running"

func runsLong() map[string]string { return map[string]string{longRunning: "true"} }

// dispatch ends a command's RunE once its options are parsed and checked:
// runF, when a test gave one, gets them instead of the run function.
func dispatch[T any](cmd *cobra.Command, opts *T, runF func(*T) error, run func(context.Context, *T) error) error {
	if runF != nil {
		return runF(opts)
	}
	return run(cmd.Context(), opts)
}

// refuseUnknownSubcommands makes every command group (the root included)
// print its help when called alone and refuse an unknown subcommand with
// exit 2 and a suggestion, instead of printing help and exiting 0.
func refuseUnknownSubcommands(c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return usageErr(cmd, "%s", msg)
		}
	}
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
}

// args returns a cobra.PositionalArgs that reports a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			if n == 0 {
				return usageErr(cmd, "unexpected argument %q", args[0])
			}
			return usageErr(cmd, "expected %s, got %d arguments", names, len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error { return exactArgs(0, "")(cmd, args) }

// requireFlags reports the first missing required flag as a usage error.
func requireFlags(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			return usageErr(cmd, "--%s is required", n)
		}
	}
	return nil
}

// parseID parses a numeric id argument.
func parseID(what, s string) (int64, error) {
	id, err := shop.ParseInt(what+" id", s)
	if err == nil && id <= 0 {
		err = shop.Invalid("%s id %d must be positive", what, id)
	}
	return id, err
}

// idFlag is a flag that holds an id: a whole number from 1, refused as the
// flag is parsed (flagError words it), so every command says it the same way.
type idFlag struct {
	p    *int64
	what string
}

// idVar defines --name holding what's id.
func idVar(f *pflag.FlagSet, p *int64, name, what, usage string) {
	f.Var(&idFlag{p: p, what: what}, name, usage)
}

func (f *idFlag) Set(s string) error {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return err // flagError words strconv's errors
	}
	if id <= 0 {
		return fmt.Errorf("%s id %d must be positive", f.what, id)
	}
	*f.p = id
	return nil
}

func (f *idFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.FormatInt(*f.p, 10)
}

func (f *idFlag) Type() string { return "int64" }
