package benchkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc: USER_HZ, which Linux
// fixes at 100 on every architecture it exposes to user space.
const userHZ = 100

func ticks(s string) (time.Duration, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second / userHZ, nil
}

// ProcCPU returns the CPU time (user + system) that process pid has used
// so far, from /proc/PID/stat, with the resolution of USER_HZ (10 ms). It
// reads the processes of other users too, PostgreSQL's backends among
// them, where /proc allows it.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields counted from 3 start after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err := ticks(f[11]) // field 14
	if err != nil {
		return 0, err
	}
	stime, err := ticks(f[12]) // field 15
	if err != nil {
		return 0, err
	}
	return utime + stime, nil
}

// MachineCPU is the time all processors of the machine spent in each state
// so far, summed over the processors (the "cpu" line of /proc/stat).
type MachineCPU struct {
	Busy   time.Duration // user, nice, system, irq and softirq
	Idle   time.Duration
	IOWait time.Duration // idle while some I/O was outstanding
	Steal  time.Duration // taken by the hypervisor for other guests
}

// ReadMachineCPU reads the CPU times of the whole machine.
func ReadMachineCPU() (MachineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return MachineCPU{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var v [8]time.Duration // user nice system idle iowait irq softirq steal
	for i := range v {
		if v[i], err = ticks(f[i+1]); err != nil {
			return MachineCPU{}, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	return MachineCPU{Busy: v[0] + v[1] + v[2] + v[5] + v[6], Idle: v[3], IOWait: v[4], Steal: v[7]}, nil
}

// Sub returns the times spent between the reading o and c.
func (c MachineCPU) Sub(o MachineCPU) MachineCPU {
	return MachineCPU{Busy: c.Busy - o.Busy, Idle: c.Idle - o.Idle, IOWait: c.IOWait - o.IOWait, Steal: c.Steal - o.Steal}
}

// DiskStat is what the block device has done so far, from /proc/diskstats.
type DiskStat struct {
	Device       string
	Writes       int64         // write requests completed
	WriteBytes   int64         // bytes written
	Flushes      int64         // flush requests completed (kernel 5.5 and later; else 0)
	Busy         time.Duration // time with I/O in flight
	WriteWaiting time.Duration // the sum of every write's time, queued and served
}

// ReadDiskStat reads the statistics of the block device that holds path
// (a partition's own line when the filesystem is on a partition).
func ReadDiskStat(path string) (DiskStat, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return DiskStat{}, err
	}
	dev := uint64(st.Dev)
	major, minor := (dev>>8)&0xfff|(dev>>32)&^0xfff, dev&0xff|(dev>>12)&^0xff
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return DiskStat{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 14 || f[0] != strconv.FormatUint(major, 10) || f[1] != strconv.FormatUint(minor, 10) {
			continue
		}
		n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
		d := DiskStat{Device: f[2], Writes: n(7), WriteBytes: n(9) * 512, WriteWaiting: time.Duration(n(10)) * time.Millisecond,
			Busy: time.Duration(n(12)) * time.Millisecond}
		if len(f) >= 19 {
			d.Flushes = n(18)
		}
		return d, nil
	}
	return DiskStat{}, fmt.Errorf("/proc/diskstats: no device %d:%d (of %s)", major, minor, path)
}

// Sub returns what the device did between the reading o and d.
func (d DiskStat) Sub(o DiskStat) DiskStat {
	return DiskStat{Device: d.Device, Writes: d.Writes - o.Writes, WriteBytes: d.WriteBytes - o.WriteBytes, Flushes: d.Flushes - o.Flushes,
		Busy: d.Busy - o.Busy, WriteWaiting: d.WriteWaiting - o.WriteWaiting}
}
