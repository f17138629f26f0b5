package config

import (
	"fmt"
	"strconv"
)

// Environment variables that override the file, with the names the
// Buildbot docker worker image uses, so that one image (or one latent
// worker template) serves many workers.
const (
	EnvMaster   = "BUILDMASTER"
	EnvPort     = "BUILDMASTER_PORT"
	EnvName     = "WORKERNAME"
	EnvPassword = "WORKERPASS"
	EnvProtocol = "BUILDMASTER_PROTOCOL"
)

// ApplyEnv overrides c's settings with the environment variables above
// that lookup finds set and non-empty (an empty one is how a container
// template leaves a variable out). A master host or port from the
// environment replaces a connection_string, since they name the master
// instead. It returns the names of the variables applied, for the log
// (never their values: one is the password), and revalidates c.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) ([]string, error) {
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		return v, ok && v != ""
	}
	var applied []string
	if v, ok := get(EnvMaster); ok {
		c.MasterHost = v
		applied = append(applied, EnvMaster)
	}
	if v, ok := get(EnvPort); ok {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return applied, fmt.Errorf("%s=%q is not a port number 1..65535", EnvPort, v)
		}
		c.MasterPort = p
		applied = append(applied, EnvPort)
	}
	if len(applied) > 0 && c.ConnectionString != "" {
		c.ConnectionString = ""
	}
	if v, ok := get(EnvName); ok {
		c.Name = v
		applied = append(applied, EnvName)
	}
	if v, ok := get(EnvPassword); ok {
		c.Password = v
		applied = append(applied, EnvPassword)
	}
	if v, ok := get(EnvProtocol); ok {
		c.Protocol = v
		applied = append(applied, EnvProtocol)
	}
	if len(applied) == 0 {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return applied, fmt.Errorf("the configuration with the environment's overrides: %w", err)
	}
	return applied, nil
}
