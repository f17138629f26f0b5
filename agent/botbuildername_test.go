package agent

import (
	"context"
	"testing"

	"github.com/buildslave/buildslave/agent/command"
)

// A msgpack build's command runs on no builder, but the master names the
// builder: the status and the metrics show it (over msgpack they showed
// "", found by TestStatusHealthAndMetricsThroughALife).
func TestCommandWithoutABuilderKeepsTheBuildersName(t *testing.T) {
	b := testBot(t)
	obs := &recordingObserver{}
	b.observer = obs
	sink := newRecordingSink()
	if err := b.startCommandFor(context.Background(), nil, "b1", false, "5", "mkdir", command.Args{"paths": []any{t.TempDir() + "/d"}}, sink); err != nil {
		t.Fatal(err)
	}
	sink.wait(t)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.started) != 1 || obs.started[0].Builder != "b1" || obs.started[0].ID != "5" {
		t.Errorf("started %+v, want command 5 of builder b1", obs.started)
	}
}
