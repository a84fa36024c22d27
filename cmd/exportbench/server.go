package main

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

// buildServer builds cmd/audittrail of the module in the working directory
// (or above it) into bin.
func buildServer(ctx context.Context, bin string) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return errors.New("run exportbench inside the audittrail module, or give -bin")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/audittrail")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/audittrail: %w", err)
	}
	return nil
}

// server is `audittrail serve` running as a child process.
type server struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:PORT, as the server prints it
	logPath string
	client  *http.Client
	once    sync.Once
	err     error
}

// startServer starts `audittrail serve --addr 127.0.0.1:0 --data data`,
// waits for its "listening on" line, and sends its logs to logPath.
func startServer(ctx context.Context, bin, data, logPath string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, logPath: logPath, client: &http.Client{
		Timeout:   15 * time.Minute,
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4},
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
			s.stop()
			return nil, fmt.Errorf("the server exited before listening; its log:\n%s", s.logTail())
		}
		s.url = u
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("the server did not print its address within 60 s; its log:\n%s", s.logTail())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM to the server and waits for it to exit.
func (s *server) stop() error {
	s.once.Do(func() {
		s.client.CloseIdleConnections()
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

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// get sends GET path with the bearer token and reads the whole body into w
// (io.Discard when nil); it returns the bytes read and fails unless the
// status is 200.
func (s *server) get(ctx context.Context, path, token string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client.Do(req)
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

// memStatus returns VmRSS and VmHWM of process pid, in bytes.
func memStatus(pid int) (rss, hwm int64, err error) {
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

func rssString(pid int) string {
	rss, hwm, err := memStatus(pid)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("VmRSS %s, VmHWM %s", mb(rss), mb(hwm))
}

// sampler reads the VmRSS of a process at a fixed interval and keeps the
// highest.
type sampler struct {
	stopc chan struct{}
	done  chan struct{}
	peak  int64
	n     int
	err   error
}

func sampleRSS(pid int, every time.Duration) *sampler {
	s := &sampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for stopping := false; ; {
			rss, _, err := memStatus(pid)
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

// stop takes a last sample and returns the peak VmRSS and the number of
// samples.
func (s *sampler) stop() (peak int64, n int, err error) {
	close(s.stopc)
	<-s.done
	return s.peak, s.n, s.err
}
