package agent

import "github.com/buildslave/buildslave/agent/command"

// msgpackKeyedValue is the msgpack value of update u. Only the streams the
// master writes to the step's log take text as [text, newline offsets,
// timestamps]; a string under any other key (failure_reason) goes as it
// is, as buildbot-worker's send_update appends every other key's value
// unchanged (base.py), and the master stores what it receives.
func msgpackKeyedValue(u command.Update, now float64) any {
	if s, ok := u.Value.(string); ok && !isLogStream(u.Key) {
		return s
	}
	return msgpackUpdateValue(u.Value, now)
}

func isLogStream(key string) bool {
	return key == "stdout" || key == "stderr" || key == "header"
}
