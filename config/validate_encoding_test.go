package config

import (
	"strings"
	"testing"
)

func TestValidateUnicodeEncoding(t *testing.T) {
	c := Config{Basedir: "/b", Name: "w", Password: "p", MasterHost: "h", MasterPort: 9989, Protocol: ProtocolPB, LogSize: 1}
	for _, name := range []string{"", "utf-8", "latin-1", "Shift_JIS", "cp1252"} {
		c.UnicodeEncoding = name
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	c.UnicodeEncoding = "klingon-8"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `"klingon-8"`) {
		t.Errorf("unknown encoding: error %v, want one naming it", err)
	}
}
