//go:build linux || darwin || freebsd

package sqlite

import "syscall"

// diskFree returns the bytes that the file system holding dir has free for
// an unprivileged writer, and false when it cannot tell.
func diskFree(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
