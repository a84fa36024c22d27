//go:build unix

package sqlite

import (
	"io/fs"
	"syscall"
)

// ownerOf returns the user id that owns the file, when the system tells.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
