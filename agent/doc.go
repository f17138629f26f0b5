// Package agent is the worker itself: the connection loop to the master, the
// bot object the master talks to, one builder per master builder, and the
// dispatch of commands to package command. The wire protocols are reached
// through small adapters, so the same bot and builders serve Perspective
// Broker and msgpack.
package agent
