//go:build !nomerkle

package store

// merkleLog is on in every real build; `-tags nomerkle` switches it off, for
// the benchmark that measures what the log costs (docs/BENCHMARKS.md).
const merkleLog = true
