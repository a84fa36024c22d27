// Command atload drives mixed traffic at the audittrail service for a fixed
// time and prints the throughput and the p50 and p99 latencies of each
// route, beside a baseline measured in the same run. It is a tool, not a
// test: nothing fails; the table says what was seen.
//
//	go run ./cmd/atload                                  # builds and starts the binary, 30 s, 8 clients
//	go run ./cmd/atload -duration 10s -clients 4 -mix ingest=1,list=1
//	go run ./cmd/atload -url http://host:8080 -operator-token ...   # a running server
//
// It creates its accounts through the API (the operator API, then each
// account's administrator makes a publisher key and enables the trail),
// posts -prefill records to each so that there is something to read, then
// for -duration runs -clients closed-loop clients (each sends its next
// request when the last is answered), each on one account, each request
// drawn by the weights of -mix:
//
//   - ingest: POST .../records with a batch of -batch realistic records;
//   - list: GET .../records with a random filter (object type, action type
//     or free text), then up to -pages-1 more pages following next_cursor;
//     each page counts as one request;
//   - count: GET .../records/count with a random filter;
//   - export: GET .../records/export.csv of the records prefilled (to= the
//     end of the prefill, so each export is the same size), read to the end.
//
// The baseline is GET /healthz: the least a request costs through the same
// network stack, router, logging and metrics, with no storage. It is sent
// by a probe of its own every 10 ms throughout the run, so it meets the
// same load and the same CPU contention as the routes: a route's p50 over
// the probe's p50 is what the route's own work costs, in units of an empty
// request, and stays comparable across noisy runs. The probe's figures
// measured alone, before the load, are printed too.
//
// When atload starts the binary itself, it turns the per-account rate
// limits off (--rate-ingest 0 --rate-read 0), since it measures capacity,
// not the limits; -serve-args adds flags of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
)

type config struct {
	url           string
	operatorToken string
	bin           string
	serveArgs     string
	parent        string
	keep          bool

	duration time.Duration
	clients  int
	accounts int
	mix      map[string]int
	batch    int
	pages    int
	prefill  int
	seed     uint64
}

// routes are the kinds of request, in the order of the table.
var routes = []string{"ingest", "list", "count", "export"}

func main() { benchkit.Main("atload", run) }

func run(ctx context.Context, args []string) error {
	cfg := config{}
	fs := flag.NewFlagSet("atload", flag.ContinueOnError)
	fs.StringVar(&cfg.url, "url", "", "base URL of a running server (default: build cmd/audittrail and start it on a fresh data directory)")
	fs.StringVar(&cfg.operatorToken, "operator-token", os.Getenv("AUDITTRAIL_OPERATOR_TOKEN"), "operator token of the server at -url, to create the accounts (default: $AUDITTRAIL_OPERATOR_TOKEN)")
	fs.StringVar(&cfg.bin, "bin", "", "audittrail binary to start (default: go build ./cmd/audittrail into the temp dir)")
	fs.StringVar(&cfg.serveArgs, "serve-args", "", "more flags of `audittrail serve` when atload starts it, space-separated (after --rate-ingest 0 --rate-read 0)")
	fs.StringVar(&cfg.parent, "dir", "", "parent of the temporary directory (default: os.TempDir(), which should be on the disk being measured)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (binary, data, server log) after the run")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long the clients run")
	fs.IntVar(&cfg.clients, "clients", 8, "concurrent clients, each with one request in flight")
	fs.IntVar(&cfg.accounts, "accounts", 1, "accounts the clients are spread over")
	mix := fs.String("mix", "ingest=4,list=3,count=2,export=1", "weights of the kinds of request: ingest, list, count, export")
	fs.IntVar(&cfg.batch, "batch", 100, "records per ingest request (1 to 1,000)")
	fs.IntVar(&cfg.pages, "pages", 5, "pages a list request reads at most, following next_cursor")
	fs.IntVar(&cfg.prefill, "prefill", 10_000, "records posted to each account before the clock starts")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the records and of the clients' choices")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.mix, err = parseMix(*mix); err != nil {
		return fmt.Errorf("-mix: %w", err)
	}
	if cfg.clients < 1 || cfg.accounts < 1 || cfg.batch < 1 || cfg.batch > 1000 || cfg.pages < 1 || cfg.prefill < 0 || cfg.duration <= 0 {
		return errors.New("-clients, -accounts, -pages and -duration must be positive, -batch 1 to 1,000, -prefill not negative")
	}

	dir, done, err := benchkit.StartRun("atload", cfg.parent, cfg.keep)
	if err != nil {
		return err
	}
	defer done()
	fmt.Printf("load     %d clients on %d account(s) for %s; mix %s; batches of %d; lists of up to %d pages; %s records prefilled per account\n",
		cfg.clients, cfg.accounts, cfg.duration, *mix, cfg.batch, cfg.pages, benchkit.Commas(int64(cfg.prefill)))

	target, stop, err := startTarget(ctx, &cfg, dir)
	if err != nil {
		return err
	}
	defer stop()

	accts := make([]*account, cfg.accounts)
	g := benchkit.NewGen(cfg.seed)
	for i := range accts {
		if accts[i], err = target.newAccount(ctx, fmt.Sprintf("load-%d-%d", time.Now().Unix()%100_000, i), cfg.operatorToken); err != nil {
			return fmt.Errorf("account: %w", err)
		}
		begin := time.Now()
		if err := accts[i].prefill(ctx, g, cfg.prefill); err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
		fmt.Printf("account  %s: %s records prefilled through the API in %s\n", accts[i].id, benchkit.Commas(int64(cfg.prefill)), time.Since(begin).Round(time.Millisecond))
	}

	idle := target.probe(ctx, 300, 0)
	fmt.Printf("baseline GET /healthz alone: %d requests, p50 %s, p99 %s\n", len(idle), benchkit.Ms(benchkit.Percentile(idle, 50)), benchkit.Ms(benchkit.Percentile(idle, 99)))

	res, err := drive(ctx, &cfg, target, accts)
	if err != nil {
		return err
	}
	if target.pid != 0 {
		fmt.Printf("server   peak VmRSS during the run %s; at the end %s\n", benchkit.MB(res.peakRSS), benchkit.RSSString(target.pid))
	}
	fmt.Println()
	printResults(res, cfg.duration)
	return nil
}

// parseMix reads "ingest=4,list=3,...".
func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(routes, name) {
			return nil, fmt.Errorf("%q: want name=weight, names %s", part, strings.Join(routes, ", "))
		}
		mix[name] += n
		total += n
	}
	if total == 0 {
		return nil, errors.New("all weights are 0")
	}
	return mix, nil
}

// startTarget starts the binary on a fresh data directory, or uses -url.
// It returns the target and the function that stops what it started.
func startTarget(ctx context.Context, cfg *config, dir string) (*target, func(), error) {
	if cfg.url != "" {
		if cfg.operatorToken == "" {
			return nil, nil, errors.New("-url needs the server's operator token: -operator-token or AUDITTRAIL_OPERATOR_TOKEN")
		}
		t := newTarget(strings.TrimSuffix(cfg.url, "/"), 0)
		fmt.Printf("server   %s (not started by atload: its memory is not sampled)\n", t.url)
		return t, func() {}, nil
	}
	if cfg.bin == "" {
		cfg.bin = filepath.Join(dir, "audittrail")
		begin := time.Now()
		if err := benchkit.Build(ctx, cfg.bin, "./cmd/audittrail"); err != nil {
			return nil, nil, err
		}
		fmt.Printf("built    %s in %s\n", cfg.bin, time.Since(begin).Round(time.Millisecond))
	}
	cfg.operatorToken = audittrail.NewSecret("op_")
	args := []string{"--data", filepath.Join(dir, "data"), "--rate-ingest", "0", "--rate-read", "0"}
	args = append(args, strings.Fields(cfg.serveArgs)...)
	srv, err := benchkit.StartServer(ctx, cfg.bin, filepath.Join(dir, "server.log"), []string{"AUDITTRAIL_OPERATOR_TOKEN=" + cfg.operatorToken}, args...)
	if err != nil {
		return nil, nil, err
	}
	fmt.Printf("server   %s (pid %d, serve %s), %s\n", srv.URL, srv.PID(), strings.Join(args, " "), benchkit.RSSString(srv.PID()))
	t := newTarget(srv.URL, srv.PID())
	return t, func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "atload: stopping the server:", err)
		}
	}, nil
}

// results are what the clients and the probe saw.
type results struct {
	stats   map[string]*routeStats // by route, and "healthz" for the probe
	peakRSS int64
}

// routeStats are one route's figures.
type routeStats struct {
	lat      []time.Duration // of the answers that succeeded
	records  int64           // stored (ingest), listed (list) or exported (export)
	errors   int             // answers that are neither 2xx nor 429, and failed requests
	limited  int             // 429 answers (rate limits, export_busy)
	firstErr string
}

func (s *routeStats) merge(o *routeStats) {
	s.lat = append(s.lat, o.lat...)
	s.records += o.records
	s.errors += o.errors
	s.limited += o.limited
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

// drive runs the clients and the probe for cfg.duration.
func drive(ctx context.Context, cfg *config, t *target, accts []*account) (*results, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var sampler *benchkit.Sampler
	if t.pid != 0 {
		sampler = benchkit.SampleRSS(t.pid, 100*time.Millisecond)
	}
	names := make([]string, 0, len(routes))
	weights := make([]int, 0, len(routes))
	for _, r := range routes {
		if cfg.mix[r] > 0 {
			names, weights = append(names, r), append(weights, cfg.mix[r])
		}
	}
	perClient := make([]map[string]*routeStats, cfg.clients)
	done := make(chan struct{})
	var probe []time.Duration
	go func() { probe = t.probe(ctx, 0, 10*time.Millisecond); close(done) }()
	clientsDone := make(chan int, cfg.clients)
	for c := range cfg.clients {
		go func() {
			defer func() { clientsDone <- c }()
			cl := &client{t: t, a: accts[c%len(accts)], g: benchkit.NewGen(cfg.seed + uint64(c) + 1),
				rnd: rand.New(rand.NewPCG(cfg.seed, uint64(c))), batch: cfg.batch, pages: cfg.pages, stats: map[string]*routeStats{}}
			for ctx.Err() == nil {
				cl.one(ctx, pick(cl.rnd, names, weights))
			}
			perClient[c] = cl.stats
		}()
	}
	for range cfg.clients {
		<-clientsDone
	}
	<-done
	res := &results{stats: map[string]*routeStats{}}
	for _, m := range perClient {
		for r, s := range m {
			if res.stats[r] == nil {
				res.stats[r] = &routeStats{}
			}
			res.stats[r].merge(s)
		}
	}
	res.stats["healthz"] = &routeStats{lat: probe}
	if sampler != nil {
		res.peakRSS, _, _ = sampler.Stop()
	}
	return res, nil
}

func pick(r *rand.Rand, names []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return names[i]
		}
		n -= w
	}
	return names[len(names)-1]
}

// printResults prints a row per route: requests, throughput, latencies and
// their ratios to the probe's, under the same load.
func printResults(res *results, d time.Duration) {
	base := res.stats["healthz"]
	b50, b99 := benchkit.Percentile(base.lat, 50), benchkit.Percentile(base.lat, 99)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "route\trequests\treq/s\trecords/s\t429\terrors\tp50\tp99\tp50/healthz\tp99/healthz\t")
	for _, r := range append(slices.Clone(routes), "healthz") {
		s := res.stats[r]
		if s == nil {
			continue
		}
		n := len(s.lat)
		p50, p99 := benchkit.Percentile(s.lat, 50), benchkit.Percentile(s.lat, 99)
		recs := "-"
		if s.records > 0 {
			recs = benchkit.Rate(float64(s.records)/d.Seconds(), "")
		}
		name := r
		if r == "healthz" {
			name = "healthz (baseline)"
		}
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%s\t%d\t%d\t%s\t%s\t%.1f\t%.1f\t\n", name, benchkit.Commas(int64(n)), float64(n)/d.Seconds(), strings.TrimSpace(recs),
			s.limited, s.errors, benchkit.Ms(p50), benchkit.Ms(p99), float64(p50)/float64(b50), float64(p99)/float64(b99))
	}
	w.Flush()
	for _, r := range routes {
		if s := res.stats[r]; s != nil && s.firstErr != "" {
			fmt.Printf("first error of %s: %s\n", r, s.firstErr)
		}
	}
}
