package benchkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build builds the package pkg (./cmd/audittrail, say) of the module in
// the working directory, or above it, into bin, with the build tags.
func Build(ctx context.Context, bin, pkg string, tags ...string) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w (run the tool from the repository, with the go tool)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return errors.New("not inside the audittrail module: run the tool from the repository, or give it a binary")
	}
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(append(args[:1:1], append(args[3:], pkg)...), " "), err)
	}
	return nil
}

// Server is `audittrail serve` running as a child process.
type Server struct {
	URL    string // http://127.0.0.1:PORT, as the server prints it
	Client *http.Client

	cmd     *exec.Cmd
	logPath string
	once    sync.Once
	err     error
}

// StartServer starts `bin serve --addr 127.0.0.1:0 args...` with env added
// to this process's environment, waits for its "listening on" line, and
// sends its logs to logPath.
func StartServer(ctx context.Context, bin, logPath string, env []string, args ...string) (*Server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, logPath: logPath, Client: &http.Client{
		Timeout:   15 * time.Minute,
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
	}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() { // keeps draining stdout until the child exits
			if u, ok := strings.CutPrefix(sc.Text(), "audittrail: listening on "); ok && !sent {
				found <- strings.TrimSpace(u)
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case u, ok := <-found:
		if !ok {
			s.Stop()
			return nil, fmt.Errorf("the server exited before listening; its log:\n%s", s.LogTail())
		}
		s.URL = u
	case <-time.After(60 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("the server did not print its address within 60 s; its log:\n%s", s.LogTail())
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
	return s, nil
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM to the server and waits for it to exit (60 s, then
// kills it). It may be called more than once.
func (s *Server) Stop() error {
	s.once.Do(func() {
		s.Client.CloseIdleConnections()
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			s.err = err
			return
		}
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case err := <-done:
			s.err = err
		case <-time.After(60 * time.Second):
			s.cmd.Process.Kill()
			s.err = fmt.Errorf("the server did not stop within 60 s of SIGTERM; killed")
			<-done
		}
	})
	return s.err
}

// LogTail returns the end of the server's log.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Get sends GET path with the bearer token and reads the whole body into w
// (io.Discard when nil); it returns the bytes read and fails unless the
// status is 200.
func (s *Server) Get(ctx context.Context, path, token string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return 0, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if w == nil {
		w = io.Discard
	}
	return io.Copy(w, resp.Body)
}

// MemStatus returns VmRSS and VmHWM of process pid, in bytes, from /proc.
func MemStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, line, err)
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS or VmHWM", pid)
	}
	return rss, hwm, nil
}

// RSSString describes the memory of process pid: "VmRSS 1.2 MB, VmHWM 3.4 MB".
func RSSString(pid int) string {
	rss, hwm, err := MemStatus(pid)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("VmRSS %s, VmHWM %s", MB(rss), MB(hwm))
}

// Sampler reads the VmRSS of a process at a fixed interval and keeps the
// highest.
type Sampler struct {
	stopc chan struct{}
	done  chan struct{}
	peak  int64
	n     int
	err   error
}

// SampleRSS starts sampling the VmRSS of process pid every interval.
func SampleRSS(pid int, every time.Duration) *Sampler {
	s := &Sampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for stopping := false; ; {
			rss, _, err := MemStatus(pid)
			if err != nil {
				s.err = err
				return
			}
			s.peak, s.n = max(s.peak, rss), s.n+1
			if stopping {
				return
			}
			select {
			case <-s.stopc:
				stopping = true // one last sample
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop takes a last sample and returns the peak VmRSS and the number of
// samples.
func (s *Sampler) Stop() (peak int64, n int, err error) {
	close(s.stopc)
	<-s.done
	return s.peak, s.n, s.err
}
