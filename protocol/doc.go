// Package protocol groups the wire protocols a Buildbot master speaks to its
// workers. Its subpackages hold codecs and connection machinery only: they know
// nothing of builds, commands or the worker's state, so that the agent can sit
// on top of either protocol through one interface.
//
//   - banana: Twisted's self-delimiting s-expression framing.
//   - jelly:  Twisted's mapping of Python values onto banana expressions.
//   - pb:     Perspective Broker: remote references, calls, answers, login.
//   - msgpack: msgpack_experimental_v7, msgpack maps over a WebSocket.
package protocol
