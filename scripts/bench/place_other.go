//go:build !linux

package main

// memoryDir finds no tmpfs: the bench needs Linux's /proc anyway.
func memoryDir(int64) (string, bool) { return "", false }
