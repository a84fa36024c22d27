package benchkit

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// StartRun makes the temporary directory of a tool's run under parent
// (os.TempDir() when empty: it should be on the disk being measured),
// prints what the figures depend on, and returns the directory and a
// function that removes it, unless keep.
func StartRun(tool, parent string, keep bool) (dir string, done func(), err error) {
	dir, err = os.MkdirTemp(parent, tool+"-")
	if err != nil {
		return "", nil, err
	}
	printMachine(tool, dir)
	if keep {
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// printMachine prints the tool and the time, Go and the processors, the
// CPU model, and the filesystem of dir.
func printMachine(tool, dir string) {
	fmt.Printf("%-8s %s\n", tool, time.Now().Format(time.RFC3339))
	fmt.Printf("go       %s %s/%s, GOMAXPROCS %d, NumCPU %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("cpu      %s\n", CPUModel())
	wd, _ := os.Getwd()
	fmt.Printf("tempdir  %s (%s)\n", dir, DescribeFS(dir, wd))
}

// CPUModel returns the model name of the first processor in
// /proc/cpuinfo, or "unknown".
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Main runs a tool: run with the command line's arguments, under a context
// that SIGINT and SIGTERM cancel; then it exits, with 2 after -h and 1
// after an error, which it prints after the tool's name.
func Main(tool string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err == flag.ErrHelp {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, tool+":", err)
		os.Exit(1)
	}
}

// DBSize returns the bytes of the SQLite database at path and of its WAL.
func DBSize(path string) int64 {
	var size int64
	for _, s := range []string{"", "-wal"} {
		if st, err := os.Stat(path + s); err == nil {
			size += st.Size()
		}
	}
	return size
}
