package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/protocol/jelly"
)

// startFakeWorker runs the worker against m until the test ends.
func startFakeWorker(t *testing.T, m *fakePBMaster, opts Options) (basedir string, done <-chan error, stop context.CancelFunc) {
	t.Helper()
	basedir = t.TempDir()
	cfg := &config.Config{
		Basedir: basedir, MasterHost: "127.0.0.1", MasterPort: m.port(),
		Name: "w1", Password: "pw", Keepalive: 600, Protocol: "pb", MaxDelay: 2,
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	finished := make(chan struct{})
	go func() { ch <- Run(ctx, cfg, opts); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Error("the worker did not stop")
		}
	})
	return basedir, ch, cancel
}

// Keyword arguments bind as Twisted binds them to the reference's remote_
// methods; what Python refuses comes back as Python's TypeError.
func TestMasterCallsWithKeywordArguments(t *testing.T) {
	m := newFakePBMaster(t)
	startFakeWorker(t, m, Options{})
	c := m.next()

	if _, f := c.call(c.mind, "print", nil, jelly.NewDict("message", "hello")); f != nil {
		t.Errorf("print(message=...): %v", f.Value)
	}
	v, f := c.call(c.mind, "setBuilderList", nil, jelly.NewDict("wanted", jelly.List{jelly.List{"b1", "b1"}}))
	if f != nil {
		t.Fatalf("setBuilderList(wanted=...): %v", f.Value)
	}
	d, ok := v.(*jelly.Dict)
	if !ok || d.Len() != 1 {
		t.Fatalf("setBuilderList answered %#v", v)
	}
	b1 := d.Items[0].Value.(jelly.Remote).LUID

	// startCommand entirely by keyword; the command's updates and its end
	// come back on the command reference given.
	args := jelly.NewDict("workdir", "wd", "command", jelly.List{"true"}, "env", &jelly.Dict{}, "timeout", int64(10))
	if _, f := c.call(b1, "startCommand", jelly.Tuple{jelly.Remote{LUID: 100}},
		jelly.NewDict("stepId", "7", "command", "shell", "args", args)); f != nil {
		t.Fatalf("startCommand(command_ref, stepId=, command=, args=): %v", f.Value)
	}
	c.waitCall(100, "complete")

	for _, tc := range []struct {
		method string
		args   jelly.Tuple
		kwargs *jelly.Dict
		want   string
	}{
		{"startCommand", nil, jelly.NewDict("bogus", int64(1)), "remote_startCommand() got an unexpected keyword argument 'bogus'"},
		{"startCommand", jelly.Tuple{jelly.Remote{LUID: 101}}, jelly.NewDict("command_ref", jelly.Remote{LUID: 101}), "remote_startCommand() got multiple values for argument 'command_ref'"},
		{"startCommand", nil, jelly.NewDict("stepId", "1"), "remote_startCommand() missing 3 required positional arguments: 'command_ref', 'command', and 'args'"},
		{"interruptCommand", jelly.Tuple{"1", "why", "extra"}, nil, "remote_interruptCommand() takes 3 positional arguments but 4 were given"},
	} {
		_, f := c.call(b1, tc.method, tc.args, tc.kwargs)
		if f == nil || f.Value != tc.want || !f.Check("builtins.TypeError") {
			t.Errorf("%s(%v, %v): %#v, want TypeError %q", tc.method, tc.args, tc.kwargs, f, tc.want)
		}
	}
	if _, f := c.call(b1, "interruptCommand", nil, jelly.NewDict("stepId", "nosuch", "why", "test")); f != nil {
		t.Errorf("interruptCommand by keyword: %v", f.Value)
	}
}

// A hostile master: malformed calls get an error answer each and the
// connection stays up; a burst of a thousand calls is answered in full and
// in order; raw bytes that are not banana end that connection (as in
// Twisted) and the worker logs in again.
func TestHostileMaster(t *testing.T) {
	m := newFakePBMaster(t)
	basedir, _, _ := startFakeWorker(t, m, Options{})
	c := m.next()

	v, f := c.call(c.mind, "setBuilderList", jelly.Tuple{jelly.List{jelly.List{"b1", "b1"}}}, nil)
	if f != nil {
		t.Fatalf("setBuilderList: %v", f.Value)
	}
	b1 := v.(*jelly.Dict).Items[0].Value.(jelly.Remote).LUID

	goNames := []string{"*jelly", "interface {}", "big.Int", "[]uint8", "map[", "*pb."}
	for _, tc := range []struct {
		obj    int64
		method string
		args   jelly.Tuple
		want   string // in the failure's text
	}{
		{c.mind, "setBuilderList", jelly.Tuple{int64(1), int64(2)}, "takes 2 positional arguments but 3 were given"},
		{c.mind, "setBuilderList", jelly.Tuple{jelly.NewDict("a", "b")}, "not a list"},
		{c.mind, "setBuilderList", jelly.Tuple{jelly.List{jelly.List{int64(1), jelly.NewDict()}}}, "entry 0 (int, dict) is not a pair of strings"},
		{c.mind, "nosuch", nil, "No such method: remote_nosuch"},
		{999, "print", jelly.Tuple{"x"}, "Invalid Object ID"},
		{b1, "startCommand", jelly.Tuple{"notaref", "1", "shell", jelly.NewDict()}, "command reference is str"},
		{b1, "startCommand", jelly.Tuple{jelly.Remote{LUID: 102}, "1", "shell", jelly.List{}}, "arguments are list, not a dict"},
		{b1, "startCommand", jelly.Tuple{jelly.Remote{LUID: 103}, "1", "nosuchcommand", jelly.NewDict()}, "nosuchcommand"},
		{b1, "startCommand", jelly.Tuple{jelly.Remote{LUID: 104}, "1", int64(5), jelly.NewDict()}, "command name is int"},
	} {
		_, f := c.call(tc.obj, tc.method, tc.args, nil)
		if f == nil || !strings.Contains(f.Value, tc.want) {
			t.Errorf("%s%v: %#v, want a failure with %q", tc.method, tc.args, f, tc.want)
			continue
		}
		for _, g := range goNames {
			if strings.Contains(f.Value, g) {
				t.Errorf("%s%v: %q names a Go type", tc.method, tc.args, f.Value)
			}
		}
	}
	// A shell command with bad arguments fails on its command reference.
	if _, f := c.call(b1, "startCommand", jelly.Tuple{jelly.Remote{LUID: 105}, "1", "shell", jelly.NewDict("workdir", int64(3), "command", "true")}, nil); f != nil {
		t.Fatalf("startCommand: %v", f.Value)
	}
	done := c.waitCall(105, "complete")
	if fl, ok := done[2].(jelly.Tuple)[0].(*jelly.Failure); !ok || !strings.Contains(fl.Value, "workdir must be a string, not int") {
		t.Errorf("complete(%#v), want the workdir's type named as Python does", done[2])
	}
	// A call whose arguments are not a tuple, and one nested 300 deep.
	if _, f := c.await(c.sendWire(c.mind, "print", jl(jelly.NewDict()), jl(jelly.NewDict()))); f == nil || f.Value != "arguments of print are a dict, not a tuple" {
		t.Errorf("dict as arguments: %#v", f)
	}
	var deep any = []any{[]byte("list")}
	for range 300 {
		deep = []any{[]byte("list"), deep}
	}
	_, f = c.await(c.sendWire(c.mind, "print", []any{[]byte("tuple"), deep}, jl(jelly.NewDict())))
	if f == nil || strings.Count(f.Value, "element 0") > 1 || len(f.Value) > 300 {
		t.Errorf("deep arguments: %#v", f)
	}

	// A burst: a thousand calls written without waiting.
	const burst = 1000
	chans := make([]chan []any, burst)
	for i := range chans {
		chans[i] = c.send(c.mind, "print", jelly.Tuple{"burst"}, jelly.NewDict())
	}
	for i, ch := range chans {
		if _, f := c.await(ch); f != nil {
			t.Fatalf("burst call %d: %v", i, f.Value)
		}
	}
	if v, f := c.call(c.mind, "getVersion", nil, nil); f != nil || v == nil {
		t.Fatalf("getVersion after the abuse: %v %v", v, f)
	}
	select {
	case <-c.closed:
		t.Fatal("the worker hung up on malformed calls")
	default:
	}

	// Raw bytes that are no banana: the worker hangs up and comes back.
	_ = c.writeRaw([]byte{0x01, 0xff, 0xfe, 0x00})
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker kept a connection that sent garbage")
	}
	c2 := m.next()
	if v, f := c2.call(c2.mind, "getVersion", nil, nil); f != nil || v == nil {
		t.Fatalf("getVersion after reconnecting: %v %v", v, f)
	}
	if _, err := filepath.Abs(basedir); err != nil {
		t.Fatal(err)
	}
}
