package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/audittrail/audittrail/internal/benchkit"
)

// meterEvery is how often the meter samples PostgreSQL's backends.
const meterEvery = 50 * time.Millisecond

// A meter measures where the time of one phase of a PostgreSQL benchmark
// goes: the CPU of this process (the clients, or a baseline's Go side), of
// the audittrail processes, of the PostgreSQL backends of the phase's
// connections (those whose application_name is the phase's, found in
// pg_stat_activity and read in /proc), of PostgreSQL's own background
// processes, and of the whole machine (/proc/stat); what those backends were
// doing, sampled every meterEvery (state and wait event); the WAL the server
// wrote (pg_stat_wal, which counts every database of the server) and what
// the disk of the data directory did (/proc/diskstats). The samples cost a
// query on the meter's own connection, whose backend is left out.
type meter struct {
	p     *pgRun
	app   string // application_name of the phase's connections, or its prefix before "-"
	procs []int  // audittrail processes

	begin     time.Time
	self      time.Duration
	procStart []time.Duration
	machine   benchkit.MachineCPU
	disk      benchkit.DiskStat
	diskErr   error
	wal       walStat
	pids      map[int]*pidCPU
	u         usage
	stopc     chan struct{}
	done      chan struct{}
	sampleErr error
}

type pidClass int

const (
	pidOurs       pidClass = iota // a backend of the phase's connections
	pidBackground                 // checkpointer, WAL writer, background writer, autovacuum, ...
	pidOther                      // a backend of another client of the server
)

type pidCPU struct {
	class       pidClass
	first, last time.Duration
}

// walStat is what the server has written to its WAL so far: the insert
// position (pg_current_wal_insert_lsn, in bytes). pg_stat_wal is not used:
// its counters reach the view a second or more late.
type walStat struct {
	bytes int64
}

func (w walStat) sub(o walStat) walStat { return walStat{w.bytes - o.bytes} }

func (w walStat) add(o walStat) walStat { return walStat{w.bytes + o.bytes} }

// usage is what a meter measured.
type usage struct {
	elapsed    time.Duration
	ncpu       int
	self       time.Duration // this process
	servers    time.Duration // the audittrail processes
	backends   time.Duration // the phase's PostgreSQL backends
	background time.Duration // PostgreSQL's background processes
	others     time.Duration // other clients' backends
	machine    benchkit.MachineCPU
	disk       benchkit.DiskStat
	diskOK     bool
	wal        walStat
	states     map[string]int // samples of the phase's backends in a transaction, by state and wait event
	samples    int            // samples taken
	inTx       int            // sum over the samples of the phase's backends in a transaction
	lockHeld   int            // samples in which some backend of the phase waited for a lock
}

// startMeter starts measuring a phase whose connections have the
// application_name app (or app-SOMETHING), served by the processes procs.
func (p *pgRun) startMeter(ctx context.Context, app string, procs ...int) (*meter, error) {
	m := &meter{p: p, app: app, procs: procs, pids: map[int]*pidCPU{}, stopc: make(chan struct{}), done: make(chan struct{})}
	m.u.states = map[string]int{}
	var err error
	if m.wal, err = readWAL(ctx, p); err != nil {
		return nil, err
	}
	if err := m.sample(ctx, sampleFirst); err != nil {
		return nil, err
	}
	for _, pid := range procs {
		c, err := benchkit.ProcCPU(pid)
		if err != nil {
			return nil, err
		}
		m.procStart = append(m.procStart, c)
	}
	if m.self, err = benchkit.ProcCPU(os.Getpid()); err != nil {
		return nil, err
	}
	if m.machine, err = benchkit.ReadMachineCPU(); err != nil {
		return nil, err
	}
	m.diskErr = errNoDataDir
	if p.dataDir != "" {
		m.disk, m.diskErr = benchkit.ReadDiskStat(p.dataDir)
	}
	m.begin = time.Now()
	go m.loop(ctx)
	return m, nil
}

var errNoDataDir = fmt.Errorf("the server's data_directory is unknown")

func (m *meter) loop(ctx context.Context) {
	defer close(m.done)
	t := time.NewTicker(meterEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stopc:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.sample(ctx, sampleAll); err != nil {
			m.sampleErr = err
			return
		}
	}
}

type sampleMode int

const (
	sampleFirst sampleMode = iota // the CPU at the start
	sampleAll                     // CPU, states and wait events
	sampleLast                    // the CPU at the end
)

// sample reads the backends of the server and the CPU of each, and tallies
// what the phase's backends are doing.
func (m *meter) sample(ctx context.Context, mode sampleMode) error {
	rows, err := m.p.mon.Query(ctx, `
		SELECT pid, backend_type, coalesce(application_name, ''), coalesce(state, ''),
			coalesce(wait_event_type, ''), coalesce(wait_event, '')
		FROM pg_stat_activity WHERE pid <> $1`, m.p.monPID)
	if err != nil {
		return err
	}
	type backend struct {
		pid                                   int
		kind, app, state, waitType, waitEvent string
	}
	var bs []backend
	for rows.Next() {
		var b backend
		if err := rows.Scan(&b.pid, &b.kind, &b.app, &b.state, &b.waitType, &b.waitEvent); err != nil {
			rows.Close()
			return err
		}
		bs = append(bs, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	inTx, lock := 0, false
	for _, b := range bs {
		class := pidOther
		switch {
		case b.app == m.app || strings.HasPrefix(b.app, m.app+"-"):
			class = pidOurs
		case b.kind != "client backend":
			class = pidBackground
		}
		c, err := benchkit.ProcCPU(b.pid)
		if err != nil {
			continue // exited since, or not ours to read
		}
		if p, ok := m.pids[b.pid]; ok {
			p.last = max(p.last, c)
		} else if mode == sampleFirst {
			m.pids[b.pid] = &pidCPU{class: class, first: c, last: c}
		} else {
			m.pids[b.pid] = &pidCPU{class: class, last: c} // started during the phase
		}
		if mode != sampleAll || class != pidOurs || b.state == "idle" || b.state == "" {
			continue
		}
		inTx++
		key := b.state
		if b.waitType != "" {
			key += " " + b.waitType + ":" + b.waitEvent
			lock = lock || b.waitType == "Lock"
		}
		m.u.states[key]++
	}
	if mode == sampleAll {
		m.u.samples++
		m.u.inTx += inTx
		if lock {
			m.u.lockHeld++
		}
	}
	return nil
}

// stop ends the phase and returns what was measured.
func (m *meter) stop(ctx context.Context) (usage, error) {
	end := time.Now()
	close(m.stopc)
	<-m.done
	if m.sampleErr != nil {
		return usage{}, m.sampleErr
	}
	if err := m.sample(ctx, sampleLast); err != nil {
		return usage{}, err
	}
	u := m.u
	u.elapsed, u.ncpu = end.Sub(m.begin), runtime.NumCPU()
	for _, p := range m.pids {
		switch p.class {
		case pidOurs:
			u.backends += p.last - p.first
		case pidBackground:
			u.background += p.last - p.first
		default:
			u.others += p.last - p.first
		}
	}
	for i, pid := range m.procs {
		c, err := benchkit.ProcCPU(pid)
		if err != nil {
			return usage{}, err
		}
		u.servers += c - m.procStart[i]
	}
	self, err := benchkit.ProcCPU(os.Getpid())
	if err != nil {
		return usage{}, err
	}
	u.self = self - m.self
	mc, err := benchkit.ReadMachineCPU()
	if err != nil {
		return usage{}, err
	}
	u.machine = mc.Sub(m.machine)
	if m.diskErr == nil {
		if d, err := benchkit.ReadDiskStat(m.p.dataDir); err == nil {
			u.disk, u.diskOK = d.Sub(m.disk), true
		}
	}
	w, err := readWAL(ctx, m.p)
	if err != nil {
		return usage{}, err
	}
	u.wal = w.sub(m.wal)
	return u, nil
}

func readWAL(ctx context.Context, p *pgRun) (walStat, error) {
	var w walStat
	err := p.mon.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint`).Scan(&w.bytes)
	return w, err
}

// add sums two measurements (of rounds of the same phase).
func (u usage) add(v usage) usage {
	s := usage{
		elapsed: u.elapsed + v.elapsed, ncpu: max(u.ncpu, v.ncpu),
		self: u.self + v.self, servers: u.servers + v.servers, backends: u.backends + v.backends,
		background: u.background + v.background, others: u.others + v.others,
		machine: benchkit.MachineCPU{Busy: u.machine.Busy + v.machine.Busy, Idle: u.machine.Idle + v.machine.Idle,
			IOWait: u.machine.IOWait + v.machine.IOWait, Steal: u.machine.Steal + v.machine.Steal},
		wal: u.wal.add(v.wal), samples: u.samples + v.samples, inTx: u.inTx + v.inTx, lockHeld: u.lockHeld + v.lockHeld,
		states: map[string]int{},
	}
	if (u.diskOK || u.elapsed == 0) && v.diskOK {
		d := u.disk
		s.disk = benchkit.DiskStat{Device: v.disk.Device, Writes: d.Writes + v.disk.Writes, WriteBytes: d.WriteBytes + v.disk.WriteBytes,
			Flushes: d.Flushes + v.disk.Flushes, Busy: d.Busy + v.disk.Busy, WriteWaiting: d.WriteWaiting + v.disk.WriteWaiting}
		s.diskOK = true
	}
	for k, n := range u.states {
		s.states[k] += n
	}
	for k, n := range v.states {
		s.states[k] += n
	}
	return s
}

// cores returns the processors that d of CPU time kept busy on average.
func (u usage) cores(d time.Duration) float64 { return d.Seconds() / u.elapsed.Seconds() }

// ours is the CPU of everything the phase ran.
func (u usage) ours() time.Duration { return u.self + u.servers + u.backends + u.background }

// busy is the share of the machine's processors that were busy.
func (u usage) busy() float64 {
	return u.machine.Busy.Seconds() / (u.elapsed.Seconds() * float64(u.ncpu))
}

func perRecord(d time.Duration, n int) string {
	return fmt.Sprintf("%.0f", float64(d.Microseconds())/float64(n))
}

// cpuLine describes the CPU per record and the processors kept busy.
func (u usage) cpuLine(records int, selfName string) string {
	parts := []string{selfName + " " + perRecord(u.self, records)}
	if u.servers > 0 {
		parts = append(parts, "audittrail "+perRecord(u.servers, records))
	}
	parts = append(parts, "pg backends "+perRecord(u.backends, records), "pg background "+perRecord(u.background, records))
	notOurs := max(0, u.machine.Busy-u.ours()) // can come out a tick below 0
	total := u.machine.Busy + u.machine.Idle + u.machine.IOWait + u.machine.Steal
	return fmt.Sprintf("CPU µs/record: %s | wall %s µs/record | cores busy: ours %.2f, not ours %.2f, machine %.0f%% of %d (steal %.0f%%, iowait %.0f%%)",
		strings.Join(parts, ", "), perRecord(u.elapsed, records), u.cores(u.ours()), u.cores(notOurs), 100*u.busy(), u.ncpu,
		100*u.machine.Steal.Seconds()/total.Seconds(), 100*u.machine.IOWait.Seconds()/total.Seconds())
}

// ioLine describes the WAL, the disk and what the backends were doing.
func (u usage) ioLine(records int) string {
	s := fmt.Sprintf("WAL %.2f KB/record (whole server)", float64(u.wal.bytes)/1024/float64(records))
	if u.diskOK {
		s += fmt.Sprintf(" | disk %s %.1f KB/record written, busy %.0f%%, %.0f flushes/s",
			u.disk.Device, float64(u.disk.WriteBytes)/1024/float64(records), 100*u.disk.Busy.Seconds()/u.elapsed.Seconds(), float64(u.disk.Flushes)/u.elapsed.Seconds())
	}
	return s
}

// waitLine describes what the phase's backends in a transaction were doing
// when sampled.
func (u usage) waitLine() string {
	if u.samples == 0 {
		return "backends: no samples"
	}
	total := 0
	type kv struct {
		k string
		n int
	}
	var kvs []kv
	for k, n := range u.states {
		kvs = append(kvs, kv{k, n})
		total += n
	}
	slices.SortFunc(kvs, func(a, b kv) int { return cmp.Compare(b.n, a.n) })
	var parts []string
	for i, e := range kvs {
		if i == 5 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", e.k, 100*float64(e.n)/float64(max(total, 1))))
	}
	return fmt.Sprintf("backends in a transaction: %.2f on average (%d samples); of them: %s", float64(u.inTx)/float64(u.samples), u.samples,
		strings.Join(parts, ", "))
}

// share returns the share of the sampled backends in a transaction whose
// state and wait event start with prefix ("active IO:WAL", "active Lock").
func (u usage) share(prefix string) float64 {
	n, total := 0, 0
	for k, c := range u.states {
		total += c
		if strings.HasPrefix(k, prefix) {
			n += c
		}
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}
