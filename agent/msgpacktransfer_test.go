package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/protocol/msgpack"
)

// windowBytes is the transfer window of agent/command (transferWindow):
// the most bytes of writes, or of reads asked for, a transfer keeps
// unanswered. The fake masters below hold their answers until it is full,
// so a wider window shows as more bytes unanswered, a narrower one as a
// worker that stops sending before it is full.
const windowBytes = 8 << 20

// fakeMsgpackPeer plays the master's side of one msgpack connection to
// the worker's real session and adapter, message by message.
type fakeMsgpackPeer struct {
	t     *testing.T
	ctx   context.Context
	conn  *websocket.Conn
	msgs  chan msgpack.Map // every message from the worker, in order
	seq   int64
	errCh chan error
}

// startMsgpackTransferPeer connects a logged-in worker session (its bot
// with basedir) to a fake master and returns the master's end.
func startMsgpackTransferPeer(t *testing.T, basedir string) *fakeMsgpackPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	conns := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		c.SetReadLimit(-1)
		conns <- c
		<-ctx.Done()
		c.CloseNow()
	}))
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	b := newBot(&config.Config{Basedir: basedir}, log, "test")
	type result struct {
		s   session
		err error
	}
	logged := make(chan result, 1)
	go func() {
		s, err := msgpackProtocol{}.login(ctx, conn, loginParams{
			master: srv.Listener.Addr().String(), name: "w1", passwordText: "pass1",
			silence: 30 * time.Second, bot: b, log: log,
		})
		logged <- result{s, err}
	}()
	var c *websocket.Conn
	select {
	case c = <-conns:
	case <-ctx.Done():
		t.Fatal("the worker did not open the WebSocket")
	}
	p := &fakeMsgpackPeer{t: t, ctx: ctx, conn: c, msgs: make(chan msgpack.Map, 1024), errCh: make(chan error, 1)}
	go p.readLoop()
	// The master's first request attaches the worker.
	p.request("print", msgpack.Pair{Key: "message", Value: "attached"})
	r := <-logged
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(r.s.close)
	if m := p.next(); m == nil || !isResponse(m) {
		t.Fatalf("the worker did not answer print: %v", m)
	}
	return p
}

func (p *fakeMsgpackPeer) readLoop() {
	defer close(p.msgs)
	for {
		typ, b, err := p.conn.Read(p.ctx)
		if err != nil {
			p.errCh <- err
			return
		}
		if typ != websocket.MessageBinary {
			p.t.Errorf("the worker sent a text message")
			continue
		}
		m, err := msgpack.Decode(b, msgpack.Limits{})
		if err != nil {
			p.t.Errorf("undecodable message from the worker: %v", err)
			continue
		}
		p.msgs <- m
	}
}

func (p *fakeMsgpackPeer) write(m msgpack.Map) {
	b, err := msgpack.Encode(m)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.conn.Write(p.ctx, websocket.MessageBinary, b); err != nil {
		p.t.Fatalf("master write: %v", err)
	}
}

func (p *fakeMsgpackPeer) request(op string, fields ...msgpack.Pair) {
	m := msgpack.Map{{Key: "op", Value: op}}
	m = append(m, fields...)
	m = append(m, msgpack.Pair{Key: "seq_number", Value: p.seq})
	p.seq++
	p.write(m)
}

// answer responds to the worker's request m: with result, or with an
// exception when failure is not empty.
func (p *fakeMsgpackPeer) answer(m msgpack.Map, result any, failure string) {
	seq, _ := m.Int("seq_number")
	resp := msgpack.Map{{Key: "op", Value: "response"}, {Key: "seq_number", Value: seq}, {Key: "result", Value: result}}
	if failure != "" {
		resp[2].Value = failure
		resp = append(resp, msgpack.Pair{Key: "is_exception", Value: true})
	}
	p.write(resp)
}

// nextWithin returns the worker's next message, or nil when none came
// within idle or the connection ended; next waits up to 30 s.
func (p *fakeMsgpackPeer) nextWithin(idle time.Duration) msgpack.Map {
	select {
	case m := <-p.msgs:
		return m
	case <-time.After(idle):
		return nil
	case <-p.ctx.Done():
		p.t.Fatal("the test ran out of time")
		return nil
	}
}

func (p *fakeMsgpackPeer) next() msgpack.Map { return p.nextWithin(30 * time.Second) }

func isResponse(m msgpack.Map) bool {
	op, _ := m.String("op")
	return op == "response"
}

// startCommand sends start_command as the master does for a setup
// command (no builder_name) and checks that the worker accepted it.
func (p *fakeMsgpackPeer) startCommand(name string, args msgpack.Map) {
	p.t.Helper()
	p.request("start_command", msgpack.Pair{Key: "command_id", Value: "7"},
		msgpack.Pair{Key: "command_name", Value: name}, msgpack.Pair{Key: "args", Value: args})
}

// transferLog is what a fake master saw of one transfer command.
type transferLog struct {
	data          []byte   // the written blocks, in order
	writes        int      // write requests
	maxUnanswered int      // the most bytes of writes or reads unanswered at once
	ops           []string // the requests but updates, in order, a run of one op once
	rc            int64    // the rc update, -1 if none
	failure       any      // complete's args
	stderr        string
	afterFailure  int // writes received after the refused one
}

// transferMaster serves the worker's requests of one transfer command
// until complete. It answers writes (and reads) only when windowBytes of
// them are unanswered, or when the worker has sent nothing for a while
// (it waits for answers: the end of the file, or a narrower window). It
// refuses write number refuse (from 1; 0: none). read answers reads from
// file (nil: the 3.7 master's nil). Closing requests must come with
// nothing unanswered.
func (p *fakeMsgpackPeer) transferMaster(refuse int, file []byte, readFailAt int) transferLog {
	p.t.Helper()
	log := transferLog{rc: -1}
	type held struct {
		m    msgpack.Map
		size int
		fail string
		data any
	}
	var queue []held
	unanswered := 0
	flushOne := func() {
		h := queue[0]
		queue = queue[1:]
		unanswered -= h.size
		p.answer(h.m, h.data, h.fail)
	}
	flushAll := func() {
		for len(queue) > 0 {
			flushOne()
		}
	}
	refused := false
	reads, offset := 0, 0
	for {
		var m msgpack.Map
		if len(queue) == 0 {
			m = p.next()
		} else if m = p.nextWithin(200 * time.Millisecond); m == nil {
			flushAll()
			continue
		}
		if m == nil {
			p.t.Fatalf("the worker went silent; so far %v", log.ops)
		}
		if isResponse(m) {
			if m.Has("is_exception") {
				r, _ := m.Get("result")
				p.t.Fatalf("the worker refused start_command: %v", r)
			}
			continue
		}
		op, _ := m.String("op")
		if op != "update" && (len(log.ops) == 0 || log.ops[len(log.ops)-1] != op) {
			log.ops = append(log.ops, op)
		}
		if id, _ := m.String("command_id"); id != "7" {
			p.t.Errorf("%s for command %q", op, id)
		}
		switch op {
		case "update":
			args, _ := m.Get("args")
			for _, pair := range args.([]any) {
				kv := pair.([]any)
				switch kv[0] {
				case "rc":
					log.rc = kv[1].(int64)
				case "stderr":
					log.stderr += kv[1].([]any)[0].(string)
				}
			}
			p.answer(m, nil, "")
		case "update_upload_file_write", "update_upload_directory_write":
			v, _ := m.Get("args")
			data, ok := v.([]byte)
			if !ok {
				p.t.Fatalf("%s carries %T, not bin", op, v)
			}
			log.writes++
			if refused {
				log.afterFailure++
			}
			h := held{m: m, size: len(data)}
			if log.writes == refuse {
				h.fail = "[Errno 27] File too large"
				refused = true
			} else if !refused {
				log.data = append(log.data, data...)
			}
			queue = append(queue, h)
			unanswered += h.size
			log.maxUnanswered = max(log.maxUnanswered, unanswered)
			for unanswered >= windowBytes {
				flushOne()
			}
		case "update_read_file":
			n, ok := m.Int("length")
			if !ok || n <= 0 {
				p.t.Fatalf("update_read_file with length %v", n)
			}
			reads++
			h := held{m: m, size: int(n)}
			switch {
			case reads == readFailAt:
				h.fail = "[Errno 5] Input/output error"
			case file != nil:
				end := min(offset+int(n), len(file))
				h.data = file[offset:end]
				offset = end
			}
			queue = append(queue, h)
			unanswered += h.size
			log.maxUnanswered = max(log.maxUnanswered, unanswered)
			for unanswered >= windowBytes {
				flushOne()
			}
		case "update_upload_file_close", "update_upload_file_utime", "update_upload_directory_unpack", "update_read_file_close":
			if op != "update_read_file_close" && len(queue) > 0 {
				p.t.Errorf("%s sent with %d writes unanswered", op, len(queue))
			}
			flushAll()
			p.answer(m, nil, "")
		case "complete":
			flushAll()
			log.failure, _ = m.Get("args")
			p.answer(m, nil, "")
			return log
		default:
			p.t.Fatalf("unexpected request %s", op)
		}
	}
}

func pseudoRandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

func uploadArgs(path string, extra ...msgpack.Pair) msgpack.Map {
	args := msgpack.Map{
		{Key: "workdir", Value: "build"}, {Key: "maxsize", Value: nil}, {Key: "blocksize", Value: int64(262144)},
		{Key: "keepstamp", Value: false}, {Key: "workersrc", Value: filepath.Base(path)}, {Key: "path", Value: path},
	}
	for _, e := range extra {
		for i := range args {
			if args[i].Key == e.Key {
				args[i].Value = e.Value
			}
		}
	}
	return args
}

// An upload over msgpack keeps its writes in flight, never more than the
// window's bytes unanswered, and closes the master's file only once every
// write is answered; the master gets the file whole.
func TestMsgpackUploadIsPipelinedWithinTheWindow(t *testing.T) {
	dir := t.TempDir()
	data := pseudoRandomBytes(windowBytes + windowBytes/2 + 12345)
	path := filepath.Join(dir, "up.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("upload_file", uploadArgs(path))
	log := p.transferMaster(0, nil, 0)
	if !bytes.Equal(log.data, data) {
		t.Errorf("the master got %d bytes, not the %d of the file", len(log.data), len(data))
	}
	if log.maxUnanswered > windowBytes {
		t.Errorf("%d bytes of writes unanswered at once, window %d", log.maxUnanswered, windowBytes)
	}
	if log.maxUnanswered < windowBytes/2 {
		t.Errorf("at most %d bytes of writes unanswered at once: the upload did not keep the window full", log.maxUnanswered)
	}
	if want := []string{"update_upload_file_write", "update_upload_file_close", "complete"}; !equalStrings(log.ops, want) {
		t.Errorf("requests %v, want %v", log.ops, want)
	}
	if log.rc != 0 || log.failure != nil {
		t.Errorf("rc %d, failure %v", log.rc, log.failure)
	}
}

// maxsize and keepstamp over the pipelined writer: the file is cut at
// maxsize (rc 1 and why), and the utime follows the close, both after the
// last write's answer.
func TestMsgpackUploadMaxsizeAndKeepstamp(t *testing.T) {
	dir := t.TempDir()
	data := pseudoRandomBytes(windowBytes + windowBytes/2)
	path := filepath.Join(dir, "up.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const maxsize = windowBytes + 1000
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("upload_file", uploadArgs(path, msgpack.Pair{Key: "maxsize", Value: int64(maxsize)},
		msgpack.Pair{Key: "keepstamp", Value: true}))
	log := p.transferMaster(0, nil, 0)
	if !bytes.Equal(log.data, data[:maxsize]) {
		t.Errorf("the master got %d bytes, want the first %d", len(log.data), maxsize)
	}
	if want := []string{"update_upload_file_write", "update_upload_file_close", "update_upload_file_utime", "complete"}; !equalStrings(log.ops, want) {
		t.Errorf("requests %v, want %v", log.ops, want)
	}
	if log.rc != 1 || !strings.Contains(log.stderr, "Maximum filesize reached") {
		t.Errorf("rc %d, stderr %q; want 1 and why", log.rc, log.stderr)
	}
}

// The first refused write fails the step: the worker stops sending within
// the window, never closes the master's file (its close would keep the
// partial file as if whole), and completes with the master's reason.
func TestMsgpackUploadRefusedWriteFailsTheStep(t *testing.T) {
	dir := t.TempDir()
	data := pseudoRandomBytes(windowBytes + windowBytes/2)
	path := filepath.Join(dir, "up.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("upload_file", uploadArgs(path))
	log := p.transferMaster(3, nil, 0)
	for _, op := range log.ops {
		if op == "update_upload_file_close" || op == "update_upload_file_utime" {
			t.Errorf("the worker sent %s after a refused write", op)
		}
	}
	// What was in flight behind the refused write, and no more.
	if max := windowBytes/(256<<10) + 1; log.afterFailure > max {
		t.Errorf("%d writes after the refused one, want at most %d", log.afterFailure, max)
	}
	failure, _ := log.failure.(string)
	if !strings.Contains(failure, "File too large") {
		t.Errorf("complete's failure %q does not carry the master's reason", failure)
	}
	if log.rc != 1 {
		t.Errorf("rc %d, want 1", log.rc)
	}
}

// A directory upload over msgpack: the archive's writes are pipelined
// within the window and the unpack goes out only after the last answer.
func TestMsgpackDirectoryUploadIsPipelined(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	files := map[string][]byte{}
	for i := range 5 {
		name := fmt.Sprintf("f%d.bin", i)
		files[name] = pseudoRandomBytes(windowBytes/4 + i)
		if err := os.MkdirAll(tree, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tree, name), files[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("upload_directory", append(uploadArgs(tree), msgpack.Pair{Key: "compress", Value: nil}))
	log := p.transferMaster(0, nil, 0)
	if want := []string{"update_upload_directory_write", "update_upload_directory_unpack", "complete"}; !equalStrings(log.ops, want) {
		t.Errorf("requests %v, want %v", log.ops, want)
	}
	if log.maxUnanswered > windowBytes || log.maxUnanswered < windowBytes/2 {
		t.Errorf("%d bytes of writes unanswered at most, want the window (%d) kept full and never exceeded", log.maxUnanswered, windowBytes)
	}
	tr := tar.NewReader(bytes.NewReader(log.data))
	got := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the archive the master got: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		body, _ := io.ReadAll(tr)
		if want, ok := files[filepath.Base(h.Name)]; !ok || !bytes.Equal(body, want) {
			t.Errorf("%s: %d bytes, not the file's", h.Name, len(body))
		}
		got++
	}
	if got != len(files) || log.rc != 0 {
		t.Errorf("%d files in the archive of %d, rc %d", got, len(files), log.rc)
	}
}

func downloadArgs(path string) msgpack.Map {
	return msgpack.Map{
		{Key: "workdir", Value: "build"}, {Key: "maxsize", Value: nil}, {Key: "blocksize", Value: int64(16384)},
		{Key: "mode", Value: nil}, {Key: "workerdest", Value: filepath.Base(path)}, {Key: "path", Value: path},
	}
}

// Over a master that answers update_read_file with the data, as the op
// means (3.7 and 4.3 discard it), a download keeps its reads in flight
// within the window and stores the file whole.
func TestMsgpackDownloadIsPipelinedWithinTheWindow(t *testing.T) {
	dir := t.TempDir()
	data := pseudoRandomBytes(windowBytes + windowBytes/2 + 4321)
	path := filepath.Join(dir, "dl.bin")
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("download_file", downloadArgs(path))
	log := p.transferMaster(0, data, 0)
	if log.rc != 0 || log.failure != nil {
		t.Fatalf("rc %d, failure %v", log.rc, log.failure)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes (%v), want the master's %d", len(got), err, len(data))
	}
	if log.maxUnanswered > windowBytes || log.maxUnanswered < windowBytes/2 {
		t.Errorf("%d bytes of reads unanswered at most, want the window (%d) kept full and never exceeded", log.maxUnanswered, windowBytes)
	}
	if want := []string{"update_read_file", "update_read_file_close", "complete"}; !equalStrings(log.ops, want) {
		t.Errorf("requests %v, want %v", log.ops, want)
	}
}

// The 3.7 master's answer to every read, nil, is the end of the file:
// the download arrives empty, as on the reference.
func TestMsgpackDownloadFromTheDefectiveMasterIsEmpty(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("download_file", downloadArgs(path))
	log := p.transferMaster(0, nil, 0)
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 || log.rc != 0 {
		t.Errorf("download: %v, %v, rc %d; want an empty file and rc 0", fi, err, log.rc)
	}
}

// A read refused halfway fails the step and leaves no partial file: what
// was there before stays.
func TestMsgpackDownloadRefusedReadLeavesNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startMsgpackTransferPeer(t, dir)
	p.startCommand("download_file", downloadArgs(path))
	log := p.transferMaster(0, pseudoRandomBytes(windowBytes+windowBytes/2), 5)
	failure, _ := log.failure.(string)
	if !strings.Contains(failure, "Input/output error") {
		t.Errorf("complete's failure %q does not carry the master's reason", failure)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
		t.Errorf("after the failed download the file holds %d bytes (%v), want the old content", len(got), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left beside the destination: %v", entries)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
