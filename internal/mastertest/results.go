package mastertest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Result is a Buildbot result code, as found in the "results" field of
// builds and steps (buildbot.process.results).
type Result int

// Buildbot's result codes. NoResult is not a Buildbot value: the REST API
// reports null while a build or step is still running, and decoding that as
// 0 would read as SUCCESS.
const (
	NoResult  Result = -1
	SUCCESS   Result = 0
	WARNINGS  Result = 1
	FAILURE   Result = 2
	SKIPPED   Result = 3
	EXCEPTION Result = 4
	RETRY     Result = 5
	CANCELLED Result = 6
)

var resultNames = [...]string{"success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"}

// String returns Buildbot's lower-case name for r ("success", "failure", …).
func (r Result) String() string {
	if r == NoResult {
		return "none"
	}
	if r >= 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// UnmarshalJSON decodes a result code, mapping null to NoResult.
func (r *Result) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*r = NoResult
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("result code: %w", err)
	}
	*r = Result(n)
	return nil
}
