package command

import (
	"cmp"
	"context"
	"fmt"
	"github.com/buildslave/buildslave/internal/pytext"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// The buffering limits (COMMANDS.md §1.4 step 2): a message is sent when
// it would grow beyond bufferSize units, counted as the text length plus
// lineUnits per line for text and itemUnits for any other item, or
// bufferTimeout after its first item. All are the reference worker's but
// bufferSize, 64 KiB there: the master stores every update in a database
// transaction of its own, and a command's fast output in a quarter of the
// updates is stored sooner (make bench, 5 MiB log over PB: 117 updates
// and 0.62 s, now 33 and 0.47 s; the Python worker 132 and 0.69 s). A
// message stays far below banana's 640 KiB string limit, and output that
// comes slowly still waits no more than bufferTimeout. Msgpack masters
// state their own size (64 KiB), which is kept.
const (
	bufferSize    = 256 << 10
	bufferTimeout = 5 * time.Second
	lineUnits     = 16
	itemUnits     = 20
)

// Output is the update stream of one command (COMMANDS.md §1.4). Text
// written to it is decoded to valid UTF-8 and cut into complete lines per
// stream; lines and other items are buffered (consecutive text of one
// stream merged into one item), and the buffer is sent to the Sink when it
// is full, when it has waited long enough, or when asked to. Its methods may be called from
// several goroutines; updates keep the order in which the calls were made.
//
// A failed send is remembered and returned by Flush, Finish and Err; the
// command goes on, but nothing more is sent.
type Output struct {
	sink Sink
	// codec decodes what commands write (stdout, stderr, log files); the
	// header is the worker's own text, always UTF-8.
	codec pytext.Codec
	// ctx bounds the sends the buffer triggers by itself (full, timer):
	// they happen inside Stdout and friends, which take no context.
	ctx     context.Context
	size    int
	timeout time.Duration
	maxLine int            // longest line content; 0: maxLineRunes
	newline *regexp.Regexp // nil: the reference's newline_re, built in

	mu       sync.Mutex
	streams  map[streamKey]*stream
	items    []item
	units    int
	timer    *time.Timer
	timerGen uint64 // identifies the current timer, so a stale one does nothing
	finished bool

	// sendMu is held while sending. It is acquired while mu is still held,
	// so batches taken in one order are sent in that order, and released
	// after mu, so other writers can buffer during a slow send.
	sendMu  sync.Mutex
	sendErr error // guarded by sendMu
}

// streamKey names one text stream: "header", "stdout", "stderr", or "log"
// with the log file's name.
type streamKey struct {
	key string
	log string
}

// sortName orders streams at Finish as the reference does: by name, log
// files by their own names, so "header" < "mylog" < "stderr" < "stdout".
func (k streamKey) sortName() string {
	if k.key == "log" {
		return k.log
	}
	return k.key
}

type stream struct {
	dec   pytext.Decoder
	lines lineFinder
}

// item is one buffered update; text items grow while merging.
type item struct {
	streamKey
	isText bool
	text   []byte
	value  any
}

func (it *item) update() Update {
	switch {
	case !it.isText:
		return Update{Key: it.key, Value: it.value}
	case it.key == "log":
		return Update{Key: "log", Value: LogText{Name: it.log, Text: string(it.text)}}
	}
	return Update{Key: it.key, Value: string(it.text)}
}

// NewOutput returns an Output sending to sink. ctx bounds the sends made
// while text is being added; Flush and Finish use their own context.
func NewOutput(ctx context.Context, sink Sink) *Output {
	return newOutput(ctx, sink, bufferSize, bufferTimeout)
}

// DefaultNewlineRE is the reference's newline_re, which msgpack masters
// send in set_worker_settings; the Output implements it without a
// regular expression (Go's have no lookahead for its "\r(?=.)").
const DefaultNewlineRE = `(\r\n|\r(?=.)|\033\[u|\033\[[0-9]+;[0-9]+[Hf]|\033\[2J|\x08+)`

// OutputSettings are the output parameters a master may set (msgpack's
// set_worker_settings). A zero field means the default, which PB masters
// always get: 256 KiB buffers (see bufferSize), 5 s, lines of 4096
// characters with their newline, DefaultNewlineRE.
type OutputSettings struct {
	BufferSize    int           // units (COMMANDS.md §1.4) that fill a buffer
	BufferTimeout time.Duration // how long the first buffered item waits
	MaxLineLength int           // longest line, counting its newline
	NewlineRE     string        // a Python regular expression
}

// Check reports whether the settings can be used. A NewlineRE other than
// DefaultNewlineRE must be valid in Go's syntax (RE2, which lacks Python's
// lookarounds and backreferences).
func (s OutputSettings) Check() error {
	if s.BufferSize < 0 || s.BufferTimeout < 0 || s.MaxLineLength < 0 || s.MaxLineLength == 1 {
		return fmt.Errorf("output settings out of range: buffer_size %d, buffer_timeout %v, max_line_length %d",
			s.BufferSize, s.BufferTimeout, s.MaxLineLength)
	}
	_, err := s.newlineRE()
	return err
}

func (s OutputSettings) newlineRE() (*regexp.Regexp, error) {
	if s.NewlineRE == "" || s.NewlineRE == DefaultNewlineRE {
		return nil, nil
	}
	re, err := regexp.Compile(s.NewlineRE)
	if err != nil {
		return nil, fmt.Errorf("newline_re %q is not a regular expression this worker can use: %w", s.NewlineRE, err)
	}
	return re, nil
}

// NewOutputWith is NewOutput with the master's output settings; settings
// that do not Check fall back to the defaults.
func NewOutputWith(ctx context.Context, sink Sink, s OutputSettings) *Output {
	o := newOutput(ctx, sink, cmp.Or(s.BufferSize, bufferSize), cmp.Or(s.BufferTimeout, bufferTimeout))
	if s.Check() != nil {
		return o
	}
	if s.MaxLineLength > 1 {
		o.maxLine = s.MaxLineLength - 1
	}
	o.newline, _ = s.newlineRE()
	return o
}

func newOutput(ctx context.Context, sink Sink, size int, timeout time.Duration) *Output {
	return &Output{
		sink:    sink,
		ctx:     ctx,
		size:    size,
		timeout: timeout,
		streams: make(map[streamKey]*stream),
	}
}

// decodeOutputWith makes the command's output (stdout, stderr, log files)
// be decoded with codec instead of UTF-8. It must be called before any of
// that output is added.
func (o *Output) decodeOutputWith(codec pytext.Codec) {
	o.mu.Lock()
	o.codec = codec
	o.mu.Unlock()
}

func (o *Output) decoderFor(k streamKey) pytext.Decoder {
	if k.key == "header" {
		return pytext.NewUTF8Decoder()
	}
	return o.codec.NewDecoder()
}

// Header adds text to the header stream, the worker's own remarks.
func (o *Output) Header(text string) { o.addText(streamKey{key: "header"}, text) }

// Stdout adds text the command wrote to its standard output. text may be
// any bytes: it is decoded as UTF-8 (or the encoding the command set),
// across calls.
func (o *Output) Stdout(text string) { o.addText(streamKey{key: "stdout"}, text) }

// Stderr adds text the command wrote to its standard error.
func (o *Output) Stderr(text string) { o.addText(streamKey{key: "stderr"}, text) }

// Log adds text read from the watched log file called name.
func (o *Output) Log(name, text string) { o.addText(streamKey{key: "log", log: name}, text) }

// RC adds the command's result code.
func (o *Output) RC(rc int) { o.Add("rc", rc) }

// Add adds an update. The text keys (header, stdout, stderr with a string,
// log with a LogText) go through line splitting as their methods do; any
// other item is buffered as it is.
func (o *Output) Add(key string, value any) {
	switch v := value.(type) {
	case string:
		if key == "header" || key == "stdout" || key == "stderr" {
			o.addText(streamKey{key: key}, v)
			return
		}
	case LogText:
		if key == "log" {
			o.Log(v.Name, v.Text)
			return
		}
	}
	o.mu.Lock()
	if o.finished {
		o.mu.Unlock()
		return
	}
	var batches [][]Update
	if o.units+itemUnits > o.size {
		batches = o.takeLocked(batches)
	}
	o.items = append(o.items, item{streamKey: streamKey{key: key}, value: value})
	o.grewLocked(itemUnits)
	o.deliver(o.ctx, batches)
}

// Flush sends what is buffered. Partial lines stay kept.
func (o *Output) Flush(ctx context.Context) error {
	o.mu.Lock()
	o.deliver(ctx, o.takeLocked(nil))
	return o.Err()
}

// Finish ends the output: each stream's partial line is completed with an
// added "\n" (streams in alphabetical order), everything is sent, and
// whatever is added afterwards is dropped. It returns the first send error.
func (o *Output) Finish(ctx context.Context) error {
	o.mu.Lock()
	if o.finished {
		o.mu.Unlock()
		return o.Err()
	}
	keys := slices.SortedFunc(maps.Keys(o.streams), func(a, b streamKey) int {
		return cmp.Or(cmp.Compare(a.sortName(), b.sortName()), cmp.Compare(a.key, b.key))
	})
	var batches [][]Update
	for _, k := range keys {
		st := o.streams[k]
		text := st.lines.append(st.dec.Flush())
		text += st.lines.flush()
		batches = o.bufferTextLocked(batches, k, text)
	}
	batches = o.takeLocked(batches)
	o.finished = true
	o.deliver(ctx, batches)
	return o.Err()
}

// Err returns the first error a send returned, if any.
func (o *Output) Err() error {
	o.sendMu.Lock()
	defer o.sendMu.Unlock()
	return o.sendErr
}

func (o *Output) addText(k streamKey, text string) {
	o.mu.Lock()
	if o.finished {
		o.mu.Unlock()
		return
	}
	st := o.streams[k]
	if st == nil {
		st = &stream{dec: o.decoderFor(k), lines: lineFinder{max: o.maxLine, newline: o.newline}}
		o.streams[k] = st
	}
	lines := st.lines.append(st.dec.Decode(text))
	o.deliver(o.ctx, o.bufferTextLocked(nil, k, lines))
}

// bufferTextLocked buffers complete lines of stream k, appending to
// batches the messages that became ready to send.
func (o *Output) bufferTextLocked(batches [][]Update, k streamKey, text string) [][]Update {
	if text == "" {
		return batches
	}
	cost := textUnits(text)
	if o.units+cost > o.size {
		// Fill the buffer with the whole lines that fit before sending
		// it: a command's output comes in large reads, and sending
		// whatever was buffered before each would make every update
		// about one read long, a fifth more update calls for the master
		// to store than the reference makes.
		if n := fittingLines(text, o.size-o.units); n > 0 {
			o.pushTextLocked(k, text[:n], textUnits(text[:n]))
			text = text[n:]
			cost = textUnits(text)
		}
		batches = o.takeLocked(batches)
	}
	// Text too large for even an empty buffer goes out in pieces of whole
	// lines.
	for cost > o.size {
		n := fittingLines(text, o.size)
		if n == 0 {
			n = strings.IndexByte(text, '\n') + 1 // a line alone over the limit
		}
		o.pushTextLocked(k, text[:n], textUnits(text[:n]))
		batches = o.takeLocked(batches)
		text = text[n:]
		cost = textUnits(text)
	}
	if text != "" {
		o.pushTextLocked(k, text, cost)
	}
	return batches
}

func (o *Output) pushTextLocked(k streamKey, text string, cost int) {
	if n := len(o.items); n > 0 && o.items[n-1].isText && o.items[n-1].streamKey == k {
		o.items[n-1].text = append(o.items[n-1].text, text...)
	} else {
		o.items = append(o.items, item{streamKey: k, isText: true, text: []byte(text)})
	}
	o.grewLocked(cost)
}

// grewLocked accounts for an added item and arms the timer on the first.
func (o *Output) grewLocked(cost int) {
	o.units += cost
	if o.timer != nil {
		return
	}
	o.timerGen++
	gen := o.timerGen
	o.timer = time.AfterFunc(o.timeout, func() { o.timerFired(gen) })
}

func (o *Output) timerFired(gen uint64) {
	o.mu.Lock()
	if o.finished || o.timer == nil || o.timerGen != gen {
		o.mu.Unlock()
		return
	}
	o.deliver(o.ctx, o.takeLocked(nil))
}

// takeLocked empties the buffer into one more batch for batches.
func (o *Output) takeLocked(batches [][]Update) [][]Update {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if len(o.items) == 0 {
		return batches
	}
	batch := make([]Update, len(o.items))
	for i := range o.items {
		batch[i] = o.items[i].update()
	}
	o.items = nil
	o.units = 0
	return append(batches, batch)
}

// deliver sends batches in order. It is called with mu held and releases
// it once it holds sendMu.
func (o *Output) deliver(ctx context.Context, batches [][]Update) {
	if len(batches) == 0 {
		o.mu.Unlock()
		return
	}
	o.sendMu.Lock()
	o.mu.Unlock()
	defer o.sendMu.Unlock()
	for _, b := range batches {
		if o.sendErr != nil {
			return
		}
		o.sendErr = o.send(ctx, b)
	}
}

// send passes one batch to the sink. A panicking sink counts as a failed
// send: the writers calling in here include a command's reader goroutines,
// and a panic there would end the worker.
func (o *Output) send(ctx context.Context, batch []Update) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sending updates: sink panicked: %v", r)
		}
	}()
	if err := o.sink.SendUpdates(ctx, batch); err != nil {
		return fmt.Errorf("sending updates: %w", err)
	}
	return nil
}

// textUnits is the buffer space text takes. It counts bytes where the
// reference counts characters, so non-ASCII text is sent a little sooner.
func textUnits(text string) int {
	return len(text) + lineUnits*strings.Count(text, "\n")
}

// fittingLines returns the length of the longest run of whole lines at the
// start of text that takes at most room units.
func fittingLines(text string, room int) int {
	n, used := 0, 0
	for n < len(text) {
		i := strings.IndexByte(text[n:], '\n')
		if i < 0 {
			break
		}
		used += i + 1 + lineUnits
		if used > room {
			break
		}
		n += i + 1
	}
	return n
}
