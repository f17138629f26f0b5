package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// wireProtocol is one way of talking to the master (Perspective Broker,
// msgpack over WebSocket). The connection loop keeps everything that does
// not depend on the protocol — dialling through TCP, TLS and HTTP proxies,
// reconnecting with backoff, maxretries, status reports and the policy of
// graceful shutdowns — and hands each dialled connection to the protocol.
//
// Contract:
//   - login runs the protocol's handshake and login on conn, an open
//     connection (TCP, through a proxy, TLS already negotiated). It returns
//     once the master has accepted the worker, or with an error: a
//     *LoginRefusedError when the master refused the name or password, an
//     error wrapping ErrDuplicateWorker when it already has this worker,
//     anything else for a connection that failed. ctx bounds the whole
//     login; l.silence bounds how long the master may say nothing during
//     it. On error, login has closed conn; on success the session owns it.
//   - login may be called again, from the same goroutine, for each new
//     connection; the bot it is given outlives all sessions.
type wireProtocol interface {
	login(ctx context.Context, conn net.Conn, l loginParams) (session, error)
}

// loginParams is what a protocol needs to log in and serve the bot.
type loginParams struct {
	master   string // the master's address, for messages
	name     string // the worker name as configured, for messages
	username []byte // the name and the password in the configured encoding
	password []byte
	// passwordText is the password as configured, for protocols that send
	// it as UTF-8 whatever the encoding (msgpack).
	passwordText string
	// silence is how long the master may say nothing while the login is
	// in progress before the connection is dropped as dead.
	silence time.Duration
	bot     *bot
	log     *slog.Logger
}

// session is one logged-in connection.
//
// Contract:
//   - serve serves the bot to the master until the connection ends, and
//     says why: ErrShutdown when the master told the worker to stop (the
//     answer to that request already sent), ctx's error when ctx ended,
//     otherwise the connection's error. Whatever the reason, the commands
//     started on this connection are stopped when it ends (their context is
//     the session's), and they report nothing more: the master has already
//     counted them as lost. The bot and its builders stay.
//   - keepalive sends one keepalive and returns once the master has
//     answered it, or with an error when ctx (which carries the reply
//     deadline) ends first. It does not close the session itself.
//   - requestShutdown asks the master to shut the worker down once it is
//     idle, as PB's perspective "shutdown" does; the master's own shutdown
//     request then ends serve with ErrShutdown. A protocol that has no such
//     request returns errNoShutdownRequest, and the connection loop applies
//     its own rule (see gracefulShutdown).
//   - close ends the connection at once; serve then returns.
//   - keepalive, requestShutdown and close may be called from any goroutine,
//     concurrently with serve and with each other.
type session interface {
	serve(ctx context.Context) error
	keepalive(ctx context.Context) error
	requestShutdown(ctx context.Context) error
	close()
}

// errNoShutdownRequest: the protocol cannot ask the master for a graceful
// shutdown.
var errNoShutdownRequest = errors.New("the protocol has no graceful shutdown request")

// LoginRefusedError says the master refused our name or password. It never
// holds the password.
type LoginRefusedError struct {
	Master string
	Name   string
}

func (e *LoginRefusedError) Error() string {
	return fmt.Sprintf("master %s refused the login of worker %q: check the worker name and password", e.Master, e.Name)
}

// duplicateWorker is the error a protocol returns when the master already
// has a connected worker of this name.
func duplicateWorker(l loginParams) error {
	return fmt.Errorf("%w: master %s, worker %q", ErrDuplicateWorker, l.master, l.name)
}
