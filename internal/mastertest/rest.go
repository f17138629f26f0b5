package mastertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxResponseSize bounds REST response bodies; the largest are log
// contents, and tests do not produce logs anywhere near this.
const maxResponseSize = 64 << 20

// Builder is an entry of /api/v2/builders.
type Builder struct {
	BuilderID   int      `json:"builderid"`
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	Tags        []string `json:"tags"`
	MasterIDs   []int    `json:"masterids"`
}

// Worker is an entry of /api/v2/workers.
type Worker struct {
	WorkerID    int    `json:"workerid"`
	Name        string `json:"name"`
	Paused      bool   `json:"paused"`
	Graceful    bool   `json:"graceful"`
	ConnectedTo []struct {
		MasterID int `json:"masterid"`
	} `json:"connected_to"`
	ConfiguredOn []struct {
		MasterID  int `json:"masterid"`
		BuilderID int `json:"builderid"`
	} `json:"configured_on"`
	// WorkerInfo is what the master kept of the worker's getWorkerInfo
	// answer: in 3.7 only "admin", "host", "access_uri" and "version". The
	// rest (basedir, system, numcpus, environ, …) is visible to builds
	// only, e.g. through Interpolate('%(worker:numcpus)s').
	WorkerInfo map[string]any `json:"workerinfo"`
}

// Connected reports whether the worker is attached to a master.
func (w Worker) Connected() bool { return len(w.ConnectedTo) > 0 }

// Build is an entry of /api/v2/builds.
type Build struct {
	BuildID        int    `json:"buildid"`
	Number         int    `json:"number"`
	BuilderID      int    `json:"builderid"`
	BuildRequestID int    `json:"buildrequestid"`
	WorkerID       int    `json:"workerid"`
	MasterID       int    `json:"masterid"`
	Complete       bool   `json:"complete"`
	Results        Result `json:"results"`
	StateString    string `json:"state_string"`
	StartedAt      int64  `json:"started_at"`
	CompleteAt     *int64 `json:"complete_at"`
}

// Step is an entry of /api/v2/builds/N/steps. Number counts from 0 within
// the build, and the master adds a step 0 of its own ("worker_preparation",
// without logs) before the factory's steps. StepID is unique master-wide.
type Step struct {
	StepID      int    `json:"stepid"`
	Number      int    `json:"number"`
	Name        string `json:"name"`
	BuildID     int    `json:"buildid"`
	Complete    bool   `json:"complete"`
	Results     Result `json:"results"`
	StateString string `json:"state_string"`
	Hidden      bool   `json:"hidden"`
	StartedAt   *int64 `json:"started_at"`
	CompleteAt  *int64 `json:"complete_at"`
	URLs        []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"urls"`
}

// Log is an entry of /api/v2/steps/N/logs. LogID is unique master-wide.
type Log struct {
	LogID    int    `json:"logid"`
	StepID   int    `json:"stepid"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Complete bool   `json:"complete"`
	NumLines int    `json:"num_lines"`
	// Type is "s" for stdio logs (each stored line prefixed with its
	// stream), "t" for plain text and "h" for HTML.
	Type string `json:"type"`
}

// ForceResult is what a force scheduler's "force" call returns.
type ForceResult struct {
	BuildsetID int
	// BuildRequests maps builder id to build request id (not build id).
	BuildRequests map[int]int
}

// Get fetches the REST resource at path (relative to /api/v2, e.g.
// "/builds/3/steps") with the given query and decodes the JSON answer into
// out. For collections out is typically a struct with a field named after
// the collection.
func (m *Master) Get(ctx context.Context, path string, query url.Values, out any) error {
	body, err := m.get(ctx, path, query)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// get returns the body of a successful GET of the REST resource at path.
func (m *Master) get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	u := m.apiURL(path)
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return m.do(req, path)
}

func (m *Master) do(req *http.Request, path string) ([]byte, error) {
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Method: req.Method, Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	return body, nil
}

func (m *Master) apiURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/api/v2%s", m.httpPort, path)
}

// HTTPError is a REST request the master answered with a status other than
// 200. Buildbot answers 404 for unknown ids, with a JSON {"error": …} body.
type HTTPError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// RPCError is a JSON-RPC error answer. Message is raw JSON: for validation
// errors Buildbot sends an object mapping field names to messages.
type RPCError struct {
	Path    string
	Code    int
	Message json.RawMessage
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("JSON-RPC %s: error %d: %s", e.Path, e.Code, e.Message)
}

// Control calls a data-API control method (JSON-RPC 2.0 over POST), e.g.
// method "stop" on "/builds/3", and decodes the result into result (which
// may be nil).
func (m *Master) Control(ctx context.Context, path, method string, params map[string]any, result any) error {
	if params == nil {
		params = map[string]any{}
	}
	reqBody, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("JSON-RPC %s %s: %w", path, method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.apiURL(path), bytes.NewReader(reqBody))
	if err != nil {
		return fmt.Errorf("JSON-RPC %s %s: %w", path, method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Errors come back with HTTP 4xx/5xx and a JSON-RPC error body.
	body, err := m.do(req, path)
	var httpErr *HTTPError
	if errors.As(err, &httpErr) {
		body = []byte(httpErr.Body)
	} else if err != nil {
		return err
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int             `json:"code"`
			Message json.RawMessage `json:"message"`
		} `json:"error"`
	}
	if jerr := json.Unmarshal(body, &reply); jerr != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("JSON-RPC %s %s: decode reply: %w", path, method, jerr)
	}
	if reply.Error != nil {
		return &RPCError{Path: path, Code: reply.Error.Code, Message: reply.Error.Message}
	}
	if err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Result, result); err != nil {
		return fmt.Errorf("JSON-RPC %s %s: decode result: %w", path, method, err)
	}
	return nil
}

// Builders lists the configured builders.
func (m *Master) Builders(ctx context.Context) ([]Builder, error) {
	var v struct{ Builders []Builder }
	err := m.Get(ctx, "/builders", nil, &v)
	return v.Builders, err
}

// BuilderID returns the id of the builder with the given name.
func (m *Master) BuilderID(ctx context.Context, name string) (int, error) {
	// Not a ?name= filter: the REST API only filters on identifiers,
	// while builder names may be any string.
	builders, err := m.Builders(ctx)
	if err != nil {
		return 0, err
	}
	for _, b := range builders {
		if b.Name == name {
			return b.BuilderID, nil
		}
	}
	return 0, fmt.Errorf("no builder named %q", name)
}

// Workers lists the configured workers.
func (m *Master) Workers(ctx context.Context) ([]Worker, error) {
	var v struct{ Workers []Worker }
	err := m.Get(ctx, "/workers", nil, &v)
	return v.Workers, err
}

// Worker returns the worker with the given name.
func (m *Master) Worker(ctx context.Context, name string) (Worker, error) {
	workers, err := m.Workers(ctx)
	if err != nil {
		return Worker{}, err
	}
	for _, w := range workers {
		if w.Name == name {
			return w, nil
		}
	}
	return Worker{}, fmt.Errorf("no worker named %q", name)
}

// WaitWorkerConnected waits until the named worker is attached and returns
// it. Bound the wait with ctx.
func (m *Master) WaitWorkerConnected(ctx context.Context, name string) (Worker, error) {
	var w Worker
	err := m.poll(ctx, fmt.Sprintf("worker %q to connect", name), func() (bool, error) {
		var err error
		w, err = m.Worker(ctx, name)
		return err == nil && w.Connected(), err
	})
	return w, err
}

// WaitWorkerDisconnected waits until the named worker is not attached.
func (m *Master) WaitWorkerDisconnected(ctx context.Context, name string) error {
	return m.poll(ctx, fmt.Sprintf("worker %q to disconnect", name), func() (bool, error) {
		w, err := m.Worker(ctx, name)
		return err == nil && !w.Connected(), err
	})
}

// Force calls the generated force scheduler of builder (see
// Options.ForceSchedulers), setting the given build properties (at most 16;
// names must match Buildbot's [\w.\-/~:]*, values may be any text). It
// returns as soon as the build request exists, which is before any build.
func (m *Master) Force(ctx context.Context, builder string, props map[string]string) (ForceResult, error) {
	sched := m.forces[builder]
	if sched == "" {
		return ForceResult{}, fmt.Errorf("force %q: no force scheduler (list the builder in Options.ForceSchedulers)", builder)
	}
	if len(props) > maxForceProperties {
		return ForceResult{}, fmt.Errorf("force %q: %d properties, at most %d supported", builder, len(props), maxForceProperties)
	}
	builderID, err := m.BuilderID(ctx, builder)
	if err != nil {
		return ForceResult{}, fmt.Errorf("force %q: %w", builder, err)
	}
	// The force scheduler validates every value as a form string; the
	// builder id travels as a string like everything else the UI sends.
	params := map[string]any{"builderid": strconv.Itoa(builderID)}
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		params[fmt.Sprintf("prop%d_name", i)] = name
		params[fmt.Sprintf("prop%d_value", i)] = props[name]
	}
	// The result is [buildsetid, {"<builderid>": buildrequestid}].
	var raw []json.RawMessage
	if err := m.Control(ctx, "/forceschedulers/"+sched, "force", params, &raw); err != nil {
		return ForceResult{}, fmt.Errorf("force %q: %w", builder, err)
	}
	var res ForceResult
	var brids map[string]int
	if len(raw) != 2 {
		return ForceResult{}, fmt.Errorf("force %q: unexpected result %s", builder, raw)
	}
	if err := json.Unmarshal(raw[0], &res.BuildsetID); err != nil {
		return ForceResult{}, fmt.Errorf("force %q: buildset id: %w", builder, err)
	}
	if err := json.Unmarshal(raw[1], &brids); err != nil {
		return ForceResult{}, fmt.Errorf("force %q: build requests: %w", builder, err)
	}
	res.BuildRequests = make(map[int]int, len(brids))
	for k, v := range brids {
		id, err := strconv.Atoi(k)
		if err != nil {
			return ForceResult{}, fmt.Errorf("force %q: builder id %q: %w", builder, k, err)
		}
		res.BuildRequests[id] = v
	}
	return res, nil
}

// ForceBuild forces a build on builder and waits for it to start (which
// needs a connected worker), returning its build id.
func (m *Master) ForceBuild(ctx context.Context, builder string, props map[string]string) (int, error) {
	res, err := m.Force(ctx, builder, props)
	if err != nil {
		return 0, err
	}
	if len(res.BuildRequests) != 1 {
		return 0, fmt.Errorf("force %q: %d build requests, want 1", builder, len(res.BuildRequests))
	}
	var brid int
	for _, id := range res.BuildRequests {
		brid = id
	}
	return m.WaitBuildStarted(ctx, brid)
}

// WaitBuildStarted waits until build request brid has a build and returns
// the first build's id (a request retried after RETRY gets several).
func (m *Master) WaitBuildStarted(ctx context.Context, brid int) (int, error) {
	var id int
	err := m.poll(ctx, fmt.Sprintf("build request %d to start a build", brid), func() (bool, error) {
		var v struct{ Builds []Build }
		if err := m.Get(ctx, fmt.Sprintf("/buildrequests/%d/builds", brid), url.Values{"order": {"buildid"}}, &v); err != nil {
			return false, err
		}
		if len(v.Builds) == 0 {
			return false, nil
		}
		id = v.Builds[0].BuildID
		return true, nil
	})
	return id, err
}

// Build returns the build with the given id.
func (m *Master) Build(ctx context.Context, buildID int) (Build, error) {
	var v struct{ Builds []Build }
	if err := m.Get(ctx, fmt.Sprintf("/builds/%d", buildID), nil, &v); err != nil {
		return Build{}, err
	}
	if len(v.Builds) != 1 {
		return Build{}, fmt.Errorf("build %d: got %d entries", buildID, len(v.Builds))
	}
	return v.Builds[0], nil
}

// WaitBuild waits until the build is complete and returns it.
func (m *Master) WaitBuild(ctx context.Context, buildID int) (Build, error) {
	var b Build
	err := m.poll(ctx, fmt.Sprintf("build %d to complete", buildID), func() (bool, error) {
		var err error
		b, err = m.Build(ctx, buildID)
		return err == nil && b.Complete, err
	})
	return b, err
}

// Steps lists the steps of a build in order.
func (m *Master) Steps(ctx context.Context, buildID int) ([]Step, error) {
	var v struct{ Steps []Step }
	err := m.Get(ctx, fmt.Sprintf("/builds/%d/steps", buildID), url.Values{"order": {"number"}}, &v)
	return v.Steps, err
}

// Logs lists the logs of a step.
func (m *Master) Logs(ctx context.Context, stepID int) ([]Log, error) {
	var v struct{ Logs []Log }
	err := m.Get(ctx, fmt.Sprintf("/steps/%d/logs", stepID), url.Values{"order": {"logid"}}, &v)
	return v.Logs, err
}

// StepLog returns the log with the given slug (e.g. "stdio") of the build's
// step with the given name.
func (m *Master) StepLog(ctx context.Context, buildID int, stepName, slug string) (Log, error) {
	steps, err := m.Steps(ctx, buildID)
	if err != nil {
		return Log{}, err
	}
	for _, s := range steps {
		if s.Name != stepName {
			continue
		}
		logs, err := m.Logs(ctx, s.StepID)
		if err != nil {
			return Log{}, err
		}
		for _, l := range logs {
			if l.Slug == slug {
				return l, nil
			}
		}
		return Log{}, fmt.Errorf("build %d step %q has no log %q", buildID, stepName, slug)
	}
	return Log{}, fmt.Errorf("build %d has no step %q", buildID, stepName)
}

// LogContents returns a log exactly as the master stored it: every line
// newline-terminated and, for stdio logs, prefixed with its stream ('o'
// stdout, 'e' stderr, 'h' header). ParseStdio splits it.
func (m *Master) LogContents(ctx context.Context, logID int) (string, error) {
	var v struct {
		Logchunks []struct {
			Content string `json:"content"`
		} `json:"logchunks"`
	}
	if err := m.Get(ctx, fmt.Sprintf("/logs/%d/contents", logID), nil, &v); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range v.Logchunks {
		b.WriteString(c.Content)
	}
	return b.String(), nil
}

// LogText returns a log as the master's /raw download serves it: for stdio
// logs the stream prefixes are stripped (stdout, stderr and header lines
// interleaved) and the final newline is dropped.
func (m *Master) LogText(ctx context.Context, logID int) (string, error) {
	body, err := m.get(ctx, fmt.Sprintf("/logs/%d/raw", logID), nil)
	return string(body), err
}

// StdioLog fetches a stdio log and splits it by stream.
func (m *Master) StdioLog(ctx context.Context, logID int) (StdioLog, error) {
	s, err := m.LogContents(ctx, logID)
	if err != nil {
		return StdioLog{}, err
	}
	return ParseStdio(s), nil
}

// BuildProperties returns the build's properties by name (values only; the
// REST API also reports each property's source).
func (m *Master) BuildProperties(ctx context.Context, buildID int) (map[string]any, error) {
	var v struct {
		Properties []map[string][2]json.RawMessage `json:"properties"`
	}
	if err := m.Get(ctx, fmt.Sprintf("/builds/%d/properties", buildID), nil, &v); err != nil {
		return nil, err
	}
	props := make(map[string]any)
	for _, set := range v.Properties {
		for name, vs := range set {
			var val any
			if err := json.Unmarshal(vs[0], &val); err != nil {
				return nil, fmt.Errorf("build %d property %q: %w", buildID, name, err)
			}
			props[name] = val
		}
	}
	return props, nil
}

// poll calls check every pollInterval until it reports done or ctx ends.
// check's errors are retried (the master may be briefly busy), and the last
// one is reported if ctx ends. Polling also stops if the master dies.
func (m *Master) poll(ctx context.Context, what string, check func() (bool, error)) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		done, err := check()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %w)", what, ctx.Err(), err)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-m.proc.Done():
			return fmt.Errorf("waiting for %s: master exited (%v)\n--- twistd.log (tail) ---\n%s",
				what, m.proc.Err(), m.LogTail(logTailLines)) //nolint:errorlint // nil after a clean exit, which %w would garble
		case <-tick.C:
		}
	}
}
