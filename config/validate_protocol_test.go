package config

import (
	"strings"
	"testing"
)

func TestValidateProtocolNames(t *testing.T) {
	c := Config{Basedir: "/b", Name: "w", Password: "p", MasterHost: "h", MasterPort: 9989, LogSize: 1}
	for _, p := range []string{ProtocolPB, ProtocolMsgpack} {
		c.Protocol = p
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", "PB", "msgpack", "msgpack_experimental_v8"} {
		c.Protocol = p
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "is not one of") {
			t.Errorf("protocol %q: error %v, want a refusal", p, err)
		}
	}
}

func TestValidateRefusesColonNamesOverMsgpack(t *testing.T) {
	c := Config{Basedir: "/b", Name: "rack:3", Password: "p:w", MasterHost: "h", MasterPort: 9989, LogSize: 1, Protocol: ProtocolPB}
	if err := c.Validate(); err != nil {
		t.Errorf("PB carries any name: %v", err)
	}
	c.Protocol = ProtocolMsgpack
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `"rack:3" contains ':'`) {
		t.Errorf("msgpack with a ':' name: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "p:w") {
		t.Errorf("the error shows the password: %v", err)
	}
}
