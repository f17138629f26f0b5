package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/protocol/msgpack"
)

// msgpackProtocol is msgpack_experimental_v7 (MSGPACK.md): msgpack maps
// over a WebSocket, the login in the upgrade's Authorization header, and
// no objects: the master addresses commands by id.
type msgpackProtocol struct{}

func (msgpackProtocol) login(ctx context.Context, conn net.Conn, l loginParams) (session, error) {
	hctx, cancel := context.WithTimeout(ctx, min(handshakeTimeout, l.silence))
	ms, err := msgpack.Open(hctx, conn, msgpack.Options{
		// The reference sends both as UTF-8 whatever its unicode_encoding.
		Name:     l.name,
		Password: l.passwordText,
		Host:     l.master,
		Logger:   l.log,
	})
	cancel()
	if err != nil {
		if errors.Is(err, msgpack.ErrLoginRefused) {
			return nil, &LoginRefusedError{Master: l.master, Name: l.name}
		}
		return nil, fmt.Errorf("opening the msgpack WebSocket with %s: %w", l.master, err)
	}
	s := &msgpackSession{ms: ms, bot: l.bot, log: l.log, shutdown: make(chan struct{}),
		first: make(chan struct{}), served: make(chan error, 1)}
	s.ctx, s.cancel = context.WithCancel(ctx)
	go func() { s.served <- ms.Serve(s.ctx, s) }()

	// The upgrade only checked the password: the master accepts the worker
	// when it starts attaching it, with its first request. Until then the
	// worker is not logged in, so a master that refuses it (a duplicate
	// name) counts as a failed attempt, as over PB.
	silence := time.NewTimer(l.silence)
	defer silence.Stop()
	select {
	case <-s.first:
		return s, nil
	case err := <-s.served:
		s.cancel()
		var closed *msgpack.PeerClosedError
		if errors.As(err, &closed) {
			// What a 3.7 master does when it will not attach a worker whose
			// password it accepted: another one of that name is connected.
			return nil, fmt.Errorf("%w (the master closed the WebSocket before attaching the worker, "+
				"as it does for a name already connected; see its log)", duplicateWorker(l))
		}
		return nil, fmt.Errorf("logging in to %s: %w", l.master, err)
	case <-silence.C:
		l.log.Warn("the master went silent during the login; dropping the connection",
			"master", l.master, "silent for", l.silence.String())
		s.end()
		return nil, fmt.Errorf("the master %s went silent during the login", l.master)
	case <-ctx.Done():
		s.end()
		return nil, ctx.Err()
	}
}

// msgpackSession is one logged-in msgpack connection; it is also the
// handler of the master's requests.
type msgpackSession struct {
	ms  *msgpack.Session
	bot *bot
	log *slog.Logger
	// ctx is the session's, for the commands it starts; cancel ends it.
	ctx    context.Context
	cancel context.CancelFunc
	served chan error // Serve's result

	firstOnce sync.Once
	first     chan struct{} // closed by the master's first request

	shutdownOnce sync.Once
	shutdown     chan struct{} // closed when the master tells us to stop
}

// end closes the connection and waits for Serve.
func (s *msgpackSession) end() {
	s.cancel()
	s.ms.Close()
	<-s.served //nolint:errcheck // waits for Serve to end; its error was seen where it ended
}

func (s *msgpackSession) serve(ctx context.Context) error {
	defer s.cancel() // the commands of this connection end with it
	select {
	case err := <-s.served:
		s.served <- err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			err = errors.New("the connection was closed")
		}
		return err
	case <-s.shutdown:
		time.Sleep(shutdownDelay)
		s.end()
		return ErrShutdown
	case <-ctx.Done():
		s.end()
		return ctx.Err()
	}
}

// keepalive is a WebSocket ping: the protocol has no worker keepalive and
// the master's own comes hourly, so without it a half-open connection would
// go unnoticed for an hour. The master (autobahn) answers pings.
func (s *msgpackSession) keepalive(ctx context.Context) error { return s.ms.Ping(ctx) }

// requestShutdown: the protocol has no way for the worker to ask.
func (s *msgpackSession) requestShutdown(context.Context) error { return errNoShutdownRequest }

func (s *msgpackSession) close() { s.ms.Close() }

// ServeMsgpack answers the master's requests (MSGPACK.md §3.2).
func (s *msgpackSession) ServeMsgpack(ctx context.Context, req *msgpack.Request) (any, error) {
	s.firstOnce.Do(func() { close(s.first) })
	f := req.Fields
	switch req.Op {
	case "print":
		msg, _ := f.String("message")
		s.log.Info("message from master: " + msg)
		return nil, nil
	case "keepalive":
		return nil, nil
	case "get_worker_info":
		return fieldsToMap(s.bot.workerInfo()), nil
	case "set_worker_settings":
		return nil, s.setWorkerSettings(f)
	case "start_command":
		return nil, s.startCommand(f)
	case "interrupt_command":
		id, ok1 := f.String("command_id")
		why, ok2 := f.String("why")
		if !ok1 || !ok2 {
			return nil, missingKey(f, "command_id", "why")
		}
		s.bot.interruptCommand(ctx, id, why)
		return nil, nil
	case "shutdown":
		s.log.Info("worker shutting down on command from master")
		s.shutdownOnce.Do(func() { close(s.shutdown) })
		return nil, nil
	}
	return nil, msgpack.ErrUnknownOp
}

// missingKey is the reference's KeyError for a request without one of keys.
func missingKey(f msgpack.Map, keys ...string) error {
	for _, k := range keys {
		if _, ok := f.Get(k); !ok {
			return fmt.Errorf("'message did not contain obligatory \"%s\" key'", k)
		}
	}
	return fmt.Errorf("'message did not contain obligatory keys %q of the right types'", keys)
}

func (s *msgpackSession) setWorkerSettings(f msgpack.Map) error {
	args, ok := f.Map("args")
	if !ok {
		return missingKey(f, "args")
	}
	for _, k := range []string{"buffer_size", "buffer_timeout", "newline_re", "max_line_length"} {
		if _, ok := args.Get(k); !ok {
			return errors.New("'message did not contain obligatory settings for worker'")
		}
	}
	size, ok1 := args.Int("buffer_size")
	maxLine, ok2 := args.Int("max_line_length")
	newline, ok3 := args.String("newline_re")
	timeout, ok4 := seconds(args, "buffer_timeout")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("set_worker_settings: a setting has the wrong type: %v", args.ToGo())
	}
	return s.bot.setOutputSettings(command.OutputSettings{
		BufferSize:    int(size),
		BufferTimeout: timeout,
		MaxLineLength: int(maxLine),
		NewlineRE:     newline,
	})
}

// seconds reads an int or float number of seconds.
func seconds(m msgpack.Map, key string) (time.Duration, bool) {
	if n, ok := m.Int(key); ok && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	v, _ := m.Get(key)
	if x, ok := v.(float64); ok && x >= 0 {
		return time.Duration(x * float64(time.Second)), true
	}
	return 0, false
}

func (s *msgpackSession) startCommand(f msgpack.Map) error {
	id, ok1 := f.String("command_id")
	name, ok2 := f.String("command_name")
	rawArgs, ok3 := f.Map("args")
	if !ok1 || !ok2 || !ok3 {
		return missingKey(f, "command_id", "command_name", "args")
	}
	args := command.Args(rawArgs.ToGo())
	sink := &msgpackSink{ms: s.ms, id: id, log: s.log}
	// The master sends absolute paths (MSGPACK.md §4.3) and no objects:
	// the transfers' writer and reader are requests keyed by command id.
	switch name {
	case "upload_file":
		args["writer"] = &msgpackWriter{sink: sink, dir: false}
	case "upload_directory":
		args["writer"] = &msgpackWriter{sink: sink, dir: true}
	case "download_file":
		args["reader"] = &msgpackReader{sink: sink}
	}
	// The reference runs every msgpack command on the bot itself, whether
	// builder_name is there (builds) or not (the attach sequence).
	_, forBuild := f.Get("builder_name")
	builderName, _ := f.String("builder_name")
	if err := s.bot.startCommandFor(s.ctx, nil, builderName, !forBuild, id, name, args, sink); err != nil {
		return errors.New(pythonException(err).Value)
	}
	return nil
}

// fieldsToMap builds the msgpack map of an ordered, neutral dict.
func fieldsToMap(fields []field) msgpack.Map {
	m := make(msgpack.Map, 0, len(fields))
	for _, f := range fields {
		v := f.Value
		if sub, ok := v.([]field); ok {
			v = fieldsToMap(sub)
		}
		m = append(m, msgpack.Pair{Key: f.Key, Value: v})
	}
	return m
}
