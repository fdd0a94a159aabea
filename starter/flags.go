package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a flag set that reports errors instead of exiting, and
// prints usage (the command line followed by the flags) to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: starter %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects positional arguments beyond maxArgs.
// It returns the exit code and false when the command must stop: exitOK
// after -h, exitUsage after an error, which flag already printed.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > maxArgs {
		fmt.Fprintf(fs.Output(), "starter %s: unexpected argument %q (flags go before arguments)\n", fs.Name(), fs.Arg(maxArgs))
		fs.Usage()
		return exitUsage, false
	}
	return exitOK, true
}

// usageError prints msg and the command's usage, and returns exitUsage.
func usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), "starter %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// listFlag is a comma-separated list flag; repeating the flag appends.
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

// Set rejects a value that names nothing, such as the "" of an unset
// shell variable, because an empty selection would silently mean the
// worker's default instead of what the caller meant.
func (l *listFlag) Set(s string) error {
	values := splitList(s)
	if len(values) == 0 {
		return fmt.Errorf("%q names nothing: pass at least one item, or leave the flag out", s)
	}
	l.set = true
	l.values = append(l.values, values...)
	return nil
}

// splitList splits a comma-separated list, trims spaces and drops empty
// items, so "a, b,," is [a b].
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
