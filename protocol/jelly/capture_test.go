package jelly

import (
	"testing"

	"github.com/buildslave/buildslave/protocol/internal/pbcapture"
)

func loadCaptures(t testing.TB) []pbcapture.Stream {
	t.Helper()
	streams, err := pbcapture.Load()
	if err != nil {
		t.Fatal(err)
	}
	return streams
}
