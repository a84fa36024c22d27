//go:build !(linux || darwin || freebsd)

package sqlite

// diskFree cannot tell the free space on this system.
func diskFree(dir string) (uint64, bool) { return 0, false }
