package pb

import (
	"errors"
	"fmt"

	"github.com/buildslave/buildslave/protocol/jelly"
)

// Qualified Python class names that matter on the wire.
const (
	TypeNoSuchMethod      = "twisted.spread.flavors.NoSuchMethod"
	TypePBError           = "twisted.spread.pb.Error"
	TypeUnauthorizedLogin = "twisted.cred.error.UnauthorizedLogin"
	TypeRuntimeError      = "builtins.RuntimeError"
)

// ErrConnectionLost fails every call still waiting when the connection ends.
var ErrConnectionLost = errors.New("pb: connection lost")

// baseParents ends every parents list: the part of a Python exception's MRO
// that all of them share.
var baseParents = []string{"builtins.Exception", "builtins.BaseException", "builtins.object"}

// NewFailure builds a failure of the given Python class to send to the peer.
// bases lists the class's own bases between itself and builtins.Exception,
// most derived first; the peer classifies failures by this list.
func NewFailure(pyType, value string, bases ...string) *jelly.Failure {
	parents := make([]string, 0, 1+len(bases)+len(baseParents))
	parents = append(parents, pyType)
	parents = append(parents, bases...)
	parents = append(parents, baseParents...)
	return &jelly.Failure{
		Type:      pyType,
		Value:     value,
		Traceback: "Traceback unavailable\n",
		Parents:   parents,
	}
}

// NoSuchMethod is the error a handler returns for a method it does not offer;
// Twisted's own message text is kept because masters log it as is.
func NoSuchMethod(method string) error {
	return NewFailure(TypeNoSuchMethod, "No such method: remote_"+method, TypePBError)
}

// asFailure turns a handler's error into what goes on the wire.
func asFailure(err error) *jelly.Failure {
	var f *jelly.Failure
	if errors.As(err, &f) {
		return f
	}
	var ff Failer
	if errors.As(err, &ff) {
		return ff.Failure()
	}
	return NewFailure(TypeRuntimeError, err.Error())
}

// Failer is implemented by errors that know which Python exception they
// stand for, so that the master can classify them.
type Failer interface {
	Failure() *jelly.Failure
}

// ProtocolError reports a peer that broke the protocol; the connection is
// dropped, as Twisted does.
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return "pb: protocol error: " + e.Msg }

func protocolErrorf(format string, args ...any) error {
	return &ProtocolError{Msg: fmt.Sprintf(format, args...)}
}

// IsUnauthorized reports whether err is the master's refusal of a login.
func IsUnauthorized(err error) bool {
	var f *jelly.Failure
	return errors.As(err, &f) && f.Check(TypeUnauthorizedLogin)
}
