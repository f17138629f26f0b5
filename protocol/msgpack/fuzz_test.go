package msgpack

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds the message decoder arbitrary bytes: it must never
// panic, and whatever it accepts must re-encode to bytes it decodes to the
// same value (and, for canonical input, to the very same bytes).
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"msgpack_main.master_to_worker.hex", "msgpack_main.worker_to_master.hex"} {
		_, frames := splitCapture(f, readDump(f, name))
		for _, fr := range frames {
			f.Add(fr.payload)
		}
	}
	f.Add([]byte{0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xdf, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b, Limits{MaxDepth: 32, MaxItems: 4096})
		if err != nil {
			return
		}
		again, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", m, err)
		}
		m2, err := Decode(again, Limits{MaxDepth: 32, MaxItems: 4096})
		if err != nil {
			t.Fatalf("re-encoded bytes do not decode: %v", err)
		}
		again2, _ := Encode(m2)
		if !bytes.Equal(again, again2) {
			t.Fatalf("encoding is not stable: %x vs %x", again, again2)
		}
	})
}
