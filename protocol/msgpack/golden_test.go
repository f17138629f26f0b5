package msgpack

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readDump reads an xxd dump of one direction of a capture.
func readDump(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, line := range strings.Split(string(text), "\n") {
		_, rest, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		// The hex column ends where the two-space gap before the text starts.
		hexPart, _, _ := strings.Cut(rest, "  ")
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			t.Fatalf("%s: %q: %v", name, line, err)
		}
		out = append(out, b...)
	}
	return out
}

type wsFrame struct {
	fin     bool
	opcode  byte
	payload []byte // unmasked
	raw     []byte
}

// splitCapture separates the HTTP head from the WebSocket frames that
// follow it, unmasking the client's frames.
func splitCapture(t testing.TB, b []byte) (head string, frames []wsFrame) {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no end of the HTTP head")
	}
	head, b = string(b[:i+4]), b[i+4:]
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("truncated frame header")
		}
		f := wsFrame{fin: b[0]&0x80 != 0, opcode: b[0] & 0x0f}
		masked := b[1]&0x80 != 0
		n, hl := uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hl = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, hl = binary.BigEndian.Uint64(b[2:]), 10
		}
		var key []byte
		if masked {
			key, hl = b[hl:hl+4], hl+4
		}
		end := hl + int(n)
		if end > len(b) {
			t.Fatalf("frame of %d bytes runs past the capture", n)
		}
		f.raw = b[:end]
		f.payload = append([]byte(nil), b[hl:end]...)
		for j := range f.payload {
			if masked {
				f.payload[j] ^= key[j%4]
			}
		}
		frames = append(frames, f)
		b = b[end:]
	}
	return head, frames
}

func captureMessages(t testing.TB, name string) []Map {
	t.Helper()
	_, frames := splitCapture(t, readDump(t, name))
	var msgs []Map
	for _, f := range frames {
		if f.opcode != 2 || !f.fin {
			t.Fatalf("%s: unexpected frame opcode %d fin %v", name, f.opcode, f.fin)
		}
		m, err := Decode(f.payload, Limits{})
		if err != nil {
			t.Fatalf("%s: %v\n%x", name, err, f.payload)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// TestGoldenCaptureRoundTrip decodes every message of the real 3.7 capture,
// both directions, and re-encodes it: the bytes must be those msgpack-python
// wrote, which shows our packing (str vs bin, smallest ints, float64, map
// order) is the reference's.
func TestGoldenCaptureRoundTrip(t *testing.T) {
	for _, name := range []string{"msgpack_main.master_to_worker.hex", "msgpack_main.worker_to_master.hex"} {
		_, frames := splitCapture(t, readDump(t, name))
		if len(frames) < 20 {
			t.Fatalf("%s: only %d frames", name, len(frames))
		}
		for i, f := range frames {
			m, err := Decode(f.payload, Limits{})
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, i, err)
			}
			again, err := Encode(m)
			if err != nil {
				t.Fatalf("%s frame %d: encode: %v", name, i, err)
			}
			if !bytes.Equal(again, f.payload) {
				t.Fatalf("%s frame %d: re-encoded differently\n got %x\nwant %x", name, i, again, f.payload)
			}
		}
		t.Logf("%s: %d messages round-trip byte for byte", name, len(frames))
	}
}

// TestGoldenCaptureContent checks what the decoded capture says against
// MSGPACK.md: the master's attach sequence, the value types, file data as bin.
func TestGoldenCaptureContent(t *testing.T) {
	m2w := captureMessages(t, "msgpack_main.master_to_worker.hex")
	var ops []string
	for _, m := range m2w[:4] {
		op, _ := m.String("op")
		ops = append(ops, op)
	}
	if want := []string{"print", "get_worker_info", "set_worker_settings", "start_command"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("master's first requests %v, want %v", ops, want)
	}
	if want := (Map{{"op", "print"}, {"message", "attached"}, {"seq_number", int64(0)}}); !reflect.DeepEqual(m2w[0], want) {
		t.Errorf("first message %#v", m2w[0])
	}
	settings, _ := m2w[2].Map("args")
	if n, _ := settings.Int("max_line_length"); n != 4096 {
		t.Errorf("max_line_length %v", n)
	}
	if v, _ := settings.Get("buffer_timeout"); v != int64(5) {
		t.Errorf("buffer_timeout %#v", v)
	}

	w2m := captureMessages(t, "msgpack_main.worker_to_master.hex")
	sawBin, sawUpdate := false, false
	for _, m := range w2m {
		op, _ := m.String("op")
		switch op {
		case "update_upload_file_write", "update_upload_directory_write":
			if _, ok := m.Get("args"); ok {
				v, _ := m.Get("args")
				if _, isBin := v.([]byte); !isBin {
					t.Errorf("%s data is %T, want bin", op, v)
				}
				sawBin = true
			}
		case "update":
			args, _ := m.Get("args")
			pairs, ok := args.([]any)
			if !ok || len(pairs) == 0 {
				t.Fatalf("update args %#v", args)
			}
			for _, p := range pairs {
				kv, ok := p.([]any)
				if !ok || len(kv) != 2 {
					t.Fatalf("update pair %#v", p)
				}
				if k, _ := kv[0].(string); k == "stdout" {
					v := kv[1].([]any)
					if _, ok := v[0].(string); !ok || len(v) != 3 {
						t.Errorf("stdout value %#v", v)
					}
					sawUpdate = true
				}
			}
		}
		if _, ok := m.Int("seq_number"); !ok {
			t.Errorf("message without seq_number: %v", m)
		}
	}
	if !sawBin || !sawUpdate {
		t.Errorf("capture lacks upload data (%v) or stdout updates (%v)", sawBin, sawUpdate)
	}
}

// TestGoldenWorkerMessages builds the worker's first messages with Send's
// layout and the response layout and compares them with the reference
// worker's bytes.
func TestGoldenWorkerMessages(t *testing.T) {
	w2m := captureMessages(t, "msgpack_main.worker_to_master.hex")
	_, frames := splitCapture(t, readDump(t, "msgpack_main.worker_to_master.hex"))
	// Frame 0: the response to print.
	got, err := Encode(Map{{"op", "response"}, {"seq_number", int64(0)}, {"result", nil}})
	if err != nil || !bytes.Equal(got, frames[0].payload) {
		t.Errorf("response: %x, %v; want %x", got, err, frames[0].payload)
	}
	// The first update and complete (listdir of the attach sequence).
	for i, m := range w2m {
		op, _ := m.String("op")
		if op != "update" && op != "complete" {
			continue
		}
		var fields Map
		for _, p := range m {
			if p.Key != "op" && p.Key != "seq_number" {
				fields = append(fields, p)
			}
		}
		seq, _ := m.Int("seq_number")
		msg := append(append(Map{{"op", op}}, fields...), Pair{"seq_number", seq})
		got, err := Encode(msg)
		if err != nil || !bytes.Equal(got, frames[i].payload) {
			t.Errorf("%s: %x, %v; want %x", op, got, err, frames[i].payload)
		}
		if op == "complete" {
			if a, _ := m.Get("args"); a != nil {
				t.Errorf("complete args %#v", a)
			}
			break
		}
	}
}
