//go:build nomerkle

package store

// merkleLog is off: a benchmark build (see log_on.go).
const merkleLog = false
