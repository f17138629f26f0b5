//go:build unix && !linux && !darwin

package metrics

// startTime is unknown here without cgo.
func startTime() (float64, bool) { return 0, false }
