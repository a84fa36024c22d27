package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittrail/audittrail/internal/benchkit"
)

// benchPGReplicas: the same number of clients POST batches of 500 records
// to one replica of `audittrail serve --db`, then to two replicas of the
// same database (half the clients each), with all clients appending to one
// account, and with the clients spread over two accounts. Every side of
// every round runs on a fresh schema; the order of the sides reverses from
// one round to the next. The meter tells where the time went, and the
// benchmark names the bottleneck.
func benchPGReplicas(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	p, err := cfg.postgres(ctx)
	if err != nil {
		return nil, err
	}
	batches := cfg.pgReplicasN / batchSize
	records := batches * batchSize
	clients := cfg.pgClients
	fmt.Printf("  %d clients in all, %d batches of %d records per side per round (+1 warm-up batch per client); fresh schema per side; order reverses every round\n",
		clients, batches, batchSize)
	type side struct {
		replicas, accounts int
		rates              []float64
		use                usage
	}
	label := func(s *side) string {
		return fmt.Sprintf("%d replica%s, %d account%s", s.replicas, plural(s.replicas), s.accounts, plural(s.accounts))
	}
	sides := []*side{{replicas: 1, accounts: 1}, {replicas: 2, accounts: 1}, {replicas: 1, accounts: 2}, {replicas: 2, accounts: 2}}
	for round := range cfg.rounds {
		order := sides
		if round%2 == 1 {
			order = reversed(sides)
		}
		for _, s := range order {
			rate, u, err := pgReplicasSide(ctx, cfg, p, s.replicas, s.accounts, clients, round, batches)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", label(s), err)
			}
			s.rates, s.use = append(s.rates, rate), s.use.add(u)
			fmt.Printf("  round %d  %-22s %s\n", round+1, label(s), benchkit.Rate(rate, "rec/s"))
			fmt.Printf("           %s\n           %s\n           %s\n", u.cpuLine(records, "clients"), u.ioLine(records), u.waitLine())
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}

	fmt.Printf("\n  where the time goes, over all rounds:\n")
	for _, s := range sides {
		n := records * cfg.rounds
		fmt.Printf("  %-22s %s\n  %-22s %s\n  %-22s %s\n  %-22s bottleneck: %s\n", label(s), s.use.cpuLine(n, "clients"), "", s.use.ioLine(n), "",
			s.use.waitLine(), "", bottleneck(s.use, s.accounts == 1))
	}

	med := func(s *side) float64 { return benchkit.Median(s.rates) }
	r11, r21, r12, r22 := sides[0], sides[1], sides[2], sides[3]
	c := fmt.Sprintf("%d clients", clients)
	return []benchkit.Result{
		benchkit.Info("pg 2 replicas ÷ 1, 1 account, "+c, benchkit.Spread(r21.rates, "rec/s"), benchkit.Spread(r11.rates, "rec/s")+" 1 replica", med(r21)/med(r11)),
		benchkit.Info("pg 2 replicas ÷ 1, 2 accounts, "+c, benchkit.Spread(r22.rates, "rec/s"), benchkit.Spread(r12.rates, "rec/s")+" 1 replica", med(r22)/med(r12)),
		benchkit.Info("pg 2 accounts ÷ 1, 1 replica, "+c, benchkit.Spread(r12.rates, "rec/s"), benchkit.Spread(r11.rates, "rec/s")+" 1 account", med(r12)/med(r11)),
		benchkit.Info("pg 2 accounts ÷ 1, 2 replicas, "+c, benchkit.Spread(r22.rates, "rec/s"), benchkit.Spread(r21.rates, "rec/s")+" 1 account", med(r22)/med(r21)),
	}, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// pgReplicasSide starts replicas of `audittrail serve` on a fresh schema
// with accounts accounts and has clients clients POST batches+1 batches
// between them: client c posts to replica c×replicas/clients, for account
// c mod accounts. Each client first posts a warm-up batch of its own.
func pgReplicasSide(ctx context.Context, cfg *config, p *pgRun, replicas, accounts, clients, round, batches int) (float64, usage, error) {
	schema, err := p.newSchema(ctx, fmt.Sprintf("replicas_%dr%da_%d", replicas, accounts, round+1))
	if err != nil {
		return 0, usage{}, err
	}
	defer p.dropSchema(schema)
	ids := []string{accountID, accountID + "2"}[:accounts]
	accts, err := pgSetup(ctx, p.schemaURL(schema, schema+"-setup"), ids...)
	if err != nil {
		return 0, usage{}, err
	}
	var servers []*benchkit.Server
	defer func() {
		for _, s := range servers {
			s.Stop()
		}
	}()
	var pids []int
	for i := range replicas {
		s, err := p.startReplica(ctx, cfg, p.schemaURL(schema, fmt.Sprintf("%s-r%d", schema, i)), fmt.Sprintf("pgreplicas-%dr%da-%d-r%d", replicas, accounts, round+1, i))
		if err != nil {
			return 0, usage{}, err
		}
		servers = append(servers, s)
		pids = append(pids, s.PID())
	}
	bodies := pgBodies(uint64(round+1), batches+clients)
	server := func(c int) *benchkit.Server { return servers[c*replicas/clients] }
	account := func(c int) pgAccount { return accts[c%accounts] }
	for c := range clients { // warm-up: each client's connection
		if err := postRecords(ctx, server(c), account(c), bodies[batches+c]); err != nil {
			return 0, usage{}, err
		}
	}

	m, err := p.startMeter(ctx, schema, pids...)
	if err != nil {
		return 0, usage{}, err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, clients)
	begin := time.Now()
	for c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= batches {
					return
				}
				if err := postRecords(ctx, server(c), account(c), bodies[i]); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	u, err := m.stop(ctx)
	if err != nil {
		return 0, usage{}, err
	}
	for _, err := range errs {
		if err != nil {
			return 0, usage{}, err
		}
	}
	return float64(batches*batchSize) / elapsed.Seconds(), u, nil
}

// bottleneck names what limited a side, from what the meter measured: the
// account's row lock when the backends of one account were often seen
// waiting for a lock, the machine's CPU when its processors were nearly
// all busy, the WAL's flushes when backends were often seen waiting for
// them.
func bottleneck(u usage, oneAccount bool) string {
	var why []string
	lock := float64(u.lockHeld) / float64(max(u.samples, 1))
	if oneAccount && lock >= 0.2 {
		why = append(why, fmt.Sprintf("the account's row lock: its appends ran one at a time, and a backend waited for the lock in %.0f%% of the samples (%.0f%% of the sampled backends in a transaction were waiting for it)",
			100*lock, 100*u.share("active Lock")))
	}
	if busy := u.busy(); busy >= 0.85 {
		why = append(why, fmt.Sprintf("CPU: the machine's %d cores were %.0f%% busy (audittrail %.2f cores, PostgreSQL backends %.2f, clients %.2f, PostgreSQL background %.2f, not ours %.2f)",
			u.ncpu, 100*busy, u.cores(u.servers), u.cores(u.backends), u.cores(u.self), u.cores(u.background), u.cores(max(0, u.machine.Busy-u.ours()))))
	}
	if wal := u.share("active IO:WAL"); wal >= 0.3 {
		why = append(why, fmt.Sprintf("WAL flushes: %.0f%% of the sampled backends in a transaction waited on WAL I/O", 100*wal))
	}
	if len(why) == 0 {
		return fmt.Sprintf("nothing saturated (machine %.0f%% busy, backends in a transaction %.2f on average, lock waits in %.0f%% of samples): the requests' own latency",
			100*u.busy(), float64(u.inTx)/float64(max(u.samples, 1)), 100*lock)
	}
	return strings.Join(why, "; and ")
}
