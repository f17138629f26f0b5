package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func envLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func validConfig() Config {
	c := Defaults()
	c.Basedir = "/w"
	c.MasterHost = "file-host"
	c.Name = "file-name"
	c.Password = "file-pw"
	return c
}

func TestApplyEnvOverrides(t *testing.T) {
	c := validConfig()
	c.ConnectionString = "TCP:other:1"
	applied, err := c.ApplyEnv(envLookup(map[string]string{
		EnvMaster:   "env-host",
		EnvPort:     "19989",
		EnvName:     "env-name",
		EnvPassword: "env-pw",
		EnvProtocol: ProtocolMsgpack,
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{EnvMaster, EnvPort, EnvName, EnvPassword, EnvProtocol}
	if !slices.Equal(applied, want) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	if c.MasterHost != "env-host" || c.MasterPort != 19989 || c.Name != "env-name" ||
		c.Password != "env-pw" || c.Protocol != ProtocolMsgpack || c.ConnectionString != "" {
		t.Errorf("config after overrides: %+v", c)
	}
}

func TestApplyEnvIgnoresUnsetAndEmpty(t *testing.T) {
	c := validConfig()
	c.ConnectionString = "TCP:other:1"
	before := c
	applied, err := c.ApplyEnv(envLookup(map[string]string{EnvMaster: "", EnvPassword: ""}))
	if err != nil || applied != nil {
		t.Fatalf("applied %v, %v", applied, err)
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("config changed: %+v", c)
	}
}

func TestApplyEnvRejectsBadValues(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"port":      {EnvPort: "99999"},
		"port text": {EnvPort: "http"},
		"protocol":  {EnvProtocol: "carrier-pigeon"},
	} {
		c := validConfig()
		if _, err := c.ApplyEnv(envLookup(env)); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "file-pw") {
			t.Errorf("%s: error reveals the password: %v", name, err)
		}
	}
}
