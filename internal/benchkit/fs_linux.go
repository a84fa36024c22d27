package benchkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// DescribeFS names the filesystem of dir and says whether it is the device
// of other (the repository's working directory).
func DescribeFS(dir, other string) string {
	var st syscall.Statfs_t
	kind := "unknown filesystem"
	if err := syscall.Statfs(dir, &st); err == nil {
		switch uint64(st.Type) {
		case 0xEF53:
			kind = "ext2/3/4"
		case 0x58465342:
			kind = "xfs"
		case 0x9123683E:
			kind = "btrfs"
		case 0x01021994:
			kind = "tmpfs, NOT a disk"
		case 0x794C7630:
			kind = "overlayfs"
		case 0x2FC12FC1:
			kind = "zfs"
		default:
			kind = fmt.Sprintf("filesystem magic %#x", uint64(st.Type))
		}
	}
	var a, b syscall.Stat_t
	same := "device unknown"
	if syscall.Stat(dir, &a) == nil && syscall.Stat(other, &b) == nil {
		if a.Dev == b.Dev {
			same = "same device as the working directory"
		} else {
			same = "NOT the device of the working directory"
		}
	}
	return kind + ", " + same
}

// DiskWrites returns the bytes this process has sent to storage so far
// (write_bytes of /proc/self/io: counted when pages are dirtied, so sockets
// are not included), or -1 when unknown.
func DiskWrites() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
