//go:build !linux

package benchkit

// DescribeFS names the filesystem of dir: not on this OS.
func DescribeFS(dir, other string) string { return "filesystem not inspected on this OS" }

// DiskWrites returns -1: unknown on this OS.
func DiskWrites() int64 { return -1 }
