//go:build nomerkle

package sqlite

// merkleLog is off: a benchmark build (see log_on.go).
const merkleLog = false
