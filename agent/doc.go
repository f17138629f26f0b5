// Package agent is the worker itself: the connection loop to the master, the
// bot object the master talks to, one builder per master builder, and the
// dispatch of commands to package command.
//
// The wire protocols are reached through one seam (session.go): the
// connection loop (worker.go, dial.go, shutdown.go) dials, then hands the
// connection to a wireProtocol, which logs in and returns a session that
// serves the bot until the connection ends. Each protocol's adapter is a set
// of files of its own, which alone import that protocol's package:
// pbadapter.go and pbsink.go (Perspective Broker: the bot and its builders
// as remote objects), msgpackadapter.go and msgpacksink.go (msgpack over
// WebSocket: ops keyed by command id). The bot (bot.go) and the mapping of
// Go errors to Python exceptions (pyerrors.go) know no protocol;
// protocol/layers_test.go checks all of this.
package agent
