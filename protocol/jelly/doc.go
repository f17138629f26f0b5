// Package jelly maps Python values, as Twisted's jelly serialises them, to Go
// values and back. It works on banana expressions (see package banana) and
// knows nothing of connections: remote references appear as Remote and Local
// values that package pb resolves.
package jelly
