//go:build !linux

package benchkit

import (
	"errors"
	"time"
)

var errNoProc = errors.New("process and device statistics are read from /proc, on Linux only")

// ProcCPU fails: not on this OS.
func ProcCPU(pid int) (time.Duration, error) { return 0, errNoProc }

// MachineCPU is the time all processors of the machine spent in each state.
type MachineCPU struct {
	Busy, Idle, IOWait, Steal time.Duration
}

// ReadMachineCPU fails: not on this OS.
func ReadMachineCPU() (MachineCPU, error) { return MachineCPU{}, errNoProc }

// Sub returns the times spent between the reading o and c.
func (c MachineCPU) Sub(o MachineCPU) MachineCPU {
	return MachineCPU{Busy: c.Busy - o.Busy, Idle: c.Idle - o.Idle, IOWait: c.IOWait - o.IOWait, Steal: c.Steal - o.Steal}
}

// DiskStat is what a block device has done so far.
type DiskStat struct {
	Device                      string
	Writes, WriteBytes, Flushes int64
	Busy, WriteWaiting          time.Duration
}

// ReadDiskStat fails: not on this OS.
func ReadDiskStat(path string) (DiskStat, error) { return DiskStat{}, errNoProc }

// Sub returns what the device did between the reading o and d.
func (d DiskStat) Sub(o DiskStat) DiskStat {
	return DiskStat{Device: d.Device, Writes: d.Writes - o.Writes, WriteBytes: d.WriteBytes - o.WriteBytes, Flushes: d.Flushes - o.Flushes,
		Busy: d.Busy - o.Busy, WriteWaiting: d.WriteWaiting - o.WriteWaiting}
}
