//go:build !windows

package command

// execTakesText: elsewhere a process gets its arguments as bytes, those
// of the worker's unicode_encoding.
const execTakesText = false
