// Package benchkit is what the benchmark and load tools (cmd/atbench,
// cmd/exportbench, cmd/atload) share: a generator of realistic records and
// the store fill built on it, the result table and its number formats, the
// description of the machine, building and starting the audittrail binary
// and sampling its memory, and the raw SQLite connections of the baselines.
//
// The tools are measurements, not tests: they print figures beside
// baselines measured in the same run, and docs/BENCHMARKS.md records them.
package benchkit
