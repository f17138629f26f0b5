package msgpack

import (
	"errors"
	"fmt"
)

var (
	// ErrLoginRefused is what every *LoginRefusedError is (errors.Is).
	ErrLoginRefused = errors.New("msgpack: login refused")
	// ErrConnectionLost fails every request still waiting when the
	// connection ends other than by Close.
	ErrConnectionLost = errors.New("msgpack: connection lost")
	// ErrClosed fails what is pending, and what is tried, after Close.
	ErrClosed = errors.New("msgpack: session closed")
	// ErrUnknownOp is returned by a Handler for an op it does not serve;
	// the master is answered "Command <op> does not exist.".
	ErrUnknownOp = errors.New("msgpack: unknown op")
)

// LoginRefusedError is the master's 401 answer to the upgrade: the worker
// name is unknown or the password is wrong (the master does not say which).
type LoginRefusedError struct {
	Name string
}

func (e *LoginRefusedError) Error() string {
	return fmt.Sprintf("msgpack: the master refused the login of worker %q (HTTP 401: unknown worker name or wrong password)", e.Name)
}

func (e *LoginRefusedError) Is(target error) bool { return target == ErrLoginRefused }

// HandshakeError is any other failed upgrade: an HTTP status other than
// 101 and 401 (Status and Reason set; the master answers 400 to an
// Authorization header it cannot parse), or a connection that failed, timed
// out or answered something that is not a WebSocket upgrade (Err set).
type HandshakeError struct {
	Status int    // HTTP status, 0 when none was read
	Reason string // the status line's text, e.g. "400 Bad request"
	Err    error
}

func (e *HandshakeError) Error() string {
	switch {
	case e.Status == 400:
		return fmt.Sprintf("msgpack: the master refused the WebSocket upgrade: %s (it could not read the credentials)", e.Reason)
	case e.Status != 0 && e.Err != nil:
		return fmt.Sprintf("msgpack: WebSocket upgrade failed: the master answered %s: %v", e.Reason, e.Err)
	case e.Status != 0:
		return fmt.Sprintf("msgpack: WebSocket upgrade failed: the master answered %s", e.Reason)
	}
	return fmt.Sprintf("msgpack: WebSocket upgrade failed: %v", e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// RemoteError is the master's is_exception answer to one of our requests.
type RemoteError struct {
	Op   string
	Seq  int64
	Text string // the master's exception text
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("msgpack: master failed %s (seq %d): %s", e.Op, e.Seq, e.Text)
}

// PeerClosedError is a Close frame from the master; the session ended
// with it (errors.Is(err, ErrConnectionLost) holds for the session's error).
// The 3.7 master sends one, without a status code (Code 1005) or reason,
// when it cannot attach a connection it has accepted: a duplicate worker
// name whose old connection still answers, or a failure while attaching.
type PeerClosedError struct {
	Code   int // WebSocket close status; 1005 when the frame carried none
	Reason string
}

func (e *PeerClosedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("the master closed the WebSocket (status %d: %s)", e.Code, e.Reason)
	}
	return fmt.Sprintf("the master closed the WebSocket (status %d)", e.Code)
}

// lostError is why a connection ended; it is ErrConnectionLost.
type lostError struct {
	cause error
}

func (e *lostError) Error() string {
	return fmt.Sprintf("msgpack: connection lost: %v", e.cause)
}

func (e *lostError) Is(target error) bool { return target == ErrConnectionLost }
func (e *lostError) Unwrap() error        { return e.cause }
