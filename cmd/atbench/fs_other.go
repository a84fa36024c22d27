//go:build !linux

package main

func describeFS(dir, other string) string { return "filesystem not inspected on this OS" }

func diskWrites() int64 { return -1 }
