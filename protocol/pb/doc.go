// Package pb is a client side of Twisted's Perspective Broker, enough to be a
// Buildbot worker: dialect negotiation, remote calls in both directions,
// answers and errors, remote references with their reference counts, and the
// username/password challenge login.
//
// A Broker owns one connection. Local objects the peer may call implement
// Object; they are exported by passing them as (or inside) call arguments or
// results, and the peer's objects arrive as *RemoteReference values. Incoming
// calls are served one at a time, in arrival order, on a goroutine of their
// own, so a handler may call the peer (and wait) without stopping the reader;
// answers to our own calls are delivered as they arrive, which lets the peer
// call us while our login is still pending, as a Buildbot master does.
package pb
