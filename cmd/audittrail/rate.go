package main

import (
	"flag"
	"fmt"
	"log/slog"

	athttp "github.com/audittrail/audittrail/http"
)

// rateFlags are the per-account rate limits of `audittrail serve`: token
// buckets, one per account for ingestion (counting records, on /changes
// the records the changes work out to) and one for reads (counting requests: records, counts, exports,
// proofs, checkpoints and the LiveEngage-compatible routes). Over a limit,
// a request answers 429 too_many_requests with Retry-After.
type rateFlags struct {
	Ingest athttp.RateLimit
	Read   athttp.RateLimit
}

func (f *rateFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.Ingest.Rate, "rate-ingest", athttp.DefaultIngestLimit.Rate, "records a second that each account may store, sustained (a batch of changes counts the records it works out to); 0 turns the limit off")
	fs.IntVar(&f.Ingest.Burst, "rate-ingest-burst", athttp.DefaultIngestLimit.Burst, "records an account may store in a burst, the size of its bucket; at least 1000, a full batch")
	fs.Float64Var(&f.Read.Rate, "rate-read", athttp.DefaultReadLimit.Rate, "read requests a second that each account may make, sustained; 0 turns the limit off")
	fs.IntVar(&f.Read.Burst, "rate-read-burst", athttp.DefaultReadLimit.Burst, "read requests an account may make in a burst, the size of its bucket")
}

// config returns the API's configuration of the limits, and logs them.
func (f *rateFlags) config(logger *slog.Logger) (athttp.Config, error) {
	if f.Ingest.Rate < 0 || f.Read.Rate < 0 || f.Ingest.Burst < 0 || f.Read.Burst < 0 {
		return athttp.Config{}, fmt.Errorf("--rate-ingest, --rate-read and their bursts must not be negative")
	}
	logger.Info("rate limits per account", "ingest", f.Ingest.String(), "read", f.Read.String())
	return athttp.Config{IngestLimit: f.Ingest, ReadLimit: f.Read}, nil
}
