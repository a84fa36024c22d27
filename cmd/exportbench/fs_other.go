//go:build !linux

package main

func describeFS(dir, other string) string { return "unknown filesystem" }
