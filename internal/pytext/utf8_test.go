package pytext

import "testing"

func TestUTF8Decoder(t *testing.T) {
	// Expectations from Python: bytes.decode('utf-8', 'replace') and its
	// incremental decoder.
	tests := []struct {
		name   string
		pieces []string
		want   string
	}{
		{"valid", []string{"héllo"}, "héllo"},
		{"truncated then ASCII", []string{"\xe2\x82A"}, "\ufffdA"},
		{"invalid byte", []string{"\xff"}, "\ufffd"},
		{"two invalid bytes", []string{"\xff\xfe"}, "\ufffd\ufffd"},
		{"surrogate", []string{"\xed\xa0\x80"}, "\ufffd\ufffd\ufffd"},
		{"truncated 4-byte", []string{"\xf0\x9f\x98A"}, "\ufffdA"},
		{"overlong", []string{"\xc0\xaf"}, "\ufffd\ufffd"},
		{"overlong 3-byte", []string{"\xe0\x80\x80"}, "\ufffd\ufffd\ufffd"},
		{"above U+10FFFF", []string{"\xf4\x90\x80\x80"}, "\ufffd\ufffd\ufffd\ufffd"},
		{"stray continuation", []string{"a\x80b"}, "a\ufffdb"},
		{"3 bytes split", []string{"\xe2\x82", "\xacx"}, "€x"},
		{"4 bytes split in four", []string{"\xf0", "\x9f", "\x98", "\x80"}, "😀"},
		{"incomplete at the end", []string{"ab\xf0\x9f"}, "ab\ufffd"},
		{"incomplete then invalid", []string{"\xe2", "\x28"}, "\ufffd("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d utf8Decoder
			got := ""
			for _, p := range tt.pieces {
				got += d.Decode(p)
			}
			got += d.Flush()
			if got != tt.want {
				t.Errorf("got %+q, want %+q", got, tt.want)
			}
		})
	}
}
