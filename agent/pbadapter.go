package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/protocol/jelly"
	"github.com/buildslave/buildslave/protocol/pb"
)

// pbProtocol is Perspective Broker (PB.md): banana and jelly over the
// connection, twisted.cred's challenge login, the bot as the login's mind.
type pbProtocol struct{}

func (pbProtocol) login(ctx context.Context, conn net.Conn, l loginParams) (session, error) {
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	broker, err := pb.Open(hctx, conn, l.log)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("opening PB with %s: %w", l.master, err)
	}
	s := &pbSession{broker: broker, log: l.log, shutdown: make(chan struct{})}
	mind := &pbBot{bot: l.bot, log: l.log, broker: broker, shutdown: s.masterShutdown}

	lctx, cancel := context.WithTimeout(ctx, loginTimeout)
	silent := dropIfSilent(lctx, broker, l.silence, l)
	perspective, err := broker.Login(lctx, l.username, l.password, mind)
	cancel()
	if err != nil {
		broker.Close()
		if <-silent {
			return nil, fmt.Errorf("the master %s went silent during the login: %w", l.master, err)
		}
		return nil, pbLoginError(err, l)
	}
	s.perspective = perspective
	return s, nil
}

func pbLoginError(err error, l loginParams) error {
	if pb.IsUnauthorized(err) {
		return &LoginRefusedError{Master: l.master, Name: l.name}
	}
	if strings.Contains(err.Error(), "rejecting duplicate worker") {
		return duplicateWorker(l)
	}
	return fmt.Errorf("logging in to %s: %w", l.master, err)
}

// dropIfSilent closes broker when nothing has arrived from the master for
// silence, until ctx ends. The channel then says whether it did. Keepalives
// only start after the login, so without this a connection that died
// half-way through it would hold the worker until loginTimeout.
func dropIfSilent(ctx context.Context, broker *pb.Broker, silence time.Duration, l loginParams) <-chan bool {
	dropped := make(chan bool, 1)
	go func() {
		tick := time.NewTicker(min(silence/4, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				dropped <- false
				return
			case <-tick.C:
				if time.Since(broker.LastReceived()) > silence {
					l.log.Warn("the master went silent during the login; dropping the connection",
						"master", l.master, "silent for", silence.String())
					broker.Close()
					dropped <- true
					return
				}
			}
		}
	}()
	return dropped
}

// pbSession is one logged-in PB connection.
type pbSession struct {
	broker      *pb.Broker
	perspective *pb.RemoteReference
	log         *slog.Logger

	shutdownOnce sync.Once
	shutdown     chan struct{} // closed when the master tells us to stop
}

func (s *pbSession) masterShutdown() {
	s.shutdownOnce.Do(func() { close(s.shutdown) })
}

func (s *pbSession) serve(ctx context.Context) error {
	defer s.broker.Close()
	defer s.perspective.Decref()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.broker.Done():
		return s.broker.Err()
	case <-s.shutdown:
		time.Sleep(shutdownDelay)
		return ErrShutdown
	}
}

// keepalive calls the perspective's keepalive: unlike the reference, the
// connection loop gives it a deadline, so a half-open connection is
// noticed.
func (s *pbSession) keepalive(ctx context.Context) error {
	_, err := s.perspective.Call(ctx, "keepalive")
	return err
}

// requestShutdown calls the perspective's shutdown: the master answers
// once it has taken note, and calls the bot's shutdown when the worker is
// idle.
func (s *pbSession) requestShutdown(ctx context.Context) error {
	_, err := s.perspective.Call(ctx, "shutdown")
	return err
}

func (s *pbSession) close() { s.broker.Close() }

// pbBot is the bot as a PB object: the "mind" the master calls. One exists
// per connection; the bot behind it persists.
type pbBot struct {
	bot    *bot
	log    *slog.Logger
	broker *pb.Broker
	// shutdown is told when the master asks the worker to stop.
	shutdown func()

	// builders keeps one PB object per builder so that a builder sent
	// again keeps its luid, as the master expects.
	builders map[*builder]*pbBuilder
}

func (p *pbBot) RemoteCall(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error) {
	bound, err := bindArgs(botParams, method, args, kwargs)
	if err != nil {
		return nil, err
	}
	args = bound
	switch method {
	case "print":
		msg := textArg(args, kwargs, 0, "message")
		p.log.Info("message from master: " + msg)
		return nil, nil
	case "getWorkerInfo":
		return fieldsToDict(p.bot.workerInfo()), nil
	case "getCommands":
		return fieldsToDict(p.bot.commandVersions()), nil
	case "getVersion":
		return p.bot.version, nil
	case "setBuilderList":
		return p.setBuilderList(args)
	case "shutdown":
		p.log.Info("worker shutting down on command from master")
		p.shutdown()
		return nil, nil
	}
	return nil, pb.NoSuchMethod(method)
}

func (p *pbBot) setBuilderList(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("setBuilderList takes 1 argument, got %d", len(args))
	}
	list, ok := asSlice(args[0])
	if !ok {
		return nil, fmt.Errorf("setBuilderList argument is %s, not a list", jelly.TypeName(args[0]))
	}
	specs := make([]builderSpec, 0, len(list))
	for i, e := range list {
		pair, ok := asSlice(e)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("setBuilderList entry %d (a %s) is not a (name, builddir) pair", i, jelly.TypeName(e))
		}
		name, ok1 := command.TextValue(pair[0])
		dir, ok2 := command.TextValue(pair[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("setBuilderList entry %d (%s, %s) is not a pair of strings", i, jelly.TypeName(pair[0]), jelly.TypeName(pair[1]))
		}
		specs = append(specs, builderSpec{Name: name, BuildDir: dir})
	}
	builders, err := p.bot.setBuilderList(specs)
	if err != nil {
		return nil, err
	}
	result := &jelly.Dict{}
	keep := make(map[*builder]*pbBuilder, len(builders))
	for _, bl := range builders {
		pbb := p.builders[bl]
		if pbb == nil {
			pbb = &pbBuilder{builder: bl, bot: p}
		}
		keep[bl] = pbb
		result.Items = append(result.Items, jelly.Item{Key: bl.name, Value: pbb})
	}
	p.builders = keep
	return result, nil
}

// pbBuilder is a builder as a PB object (the reference's WorkerForBuilderPb).
type pbBuilder struct {
	builder *builder
	bot     *pbBot
}

func (p *pbBuilder) RemoteCall(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error) {
	bound, err := bindArgs(builderParams, method, args, kwargs)
	if err != nil {
		return nil, err
	}
	args = bound
	switch method {
	case "startBuild", "setMaster":
		pb.DecrefAll(args)
		return nil, nil
	case "print":
		p.bot.log.Info("message from master to builder "+p.builder.name+": "+textArg(args, kwargs, 0, "message"), "builder", p.builder.name)
		return nil, nil
	case "startCommand":
		return nil, p.startCommand(ctx, args)
	case "interruptCommand":
		p.builder.interruptCommand(textArg(args, kwargs, 0, "stepId"), textArg(args, kwargs, 1, "why"))
		return nil, nil
	case "shutdown":
		// Masters older than 0.8.3 shut a worker down through a builder.
		p.bot.log.Info("worker shutting down on command from master")
		p.bot.shutdown()
		return nil, nil
	}
	return nil, pb.NoSuchMethod(method)
}

func (p *pbBuilder) startCommand(ctx context.Context, args []any) error {
	if len(args) != 4 {
		pb.DecrefAll(args)
		return fmt.Errorf("startCommand takes 4 arguments, got %d", len(args))
	}
	ref, ok := args[0].(*pb.RemoteReference)
	if !ok {
		pb.DecrefAll(args)
		return fmt.Errorf("startCommand: the command reference is %s", jelly.TypeName(args[0]))
	}
	id, _ := command.TextValue(args[1])
	name, ok := command.TextValue(args[2])
	if !ok {
		pb.DecrefAll(args)
		return fmt.Errorf("startCommand: the command name is %s", jelly.TypeName(args[2]))
	}
	rawArgs, ok := args[3].(*jelly.Dict)
	if !ok {
		pb.DecrefAll(args)
		return fmt.Errorf("startCommand: the arguments are %s, not a dict", jelly.TypeName(args[3]))
	}
	cmdArgs, refs := convertArgs(rawArgs)
	sink := &pbSink{ref: ref, extra: refs, log: p.bot.log}
	if err := translatePaths(name, cmdArgs, p.builder.builderDir()); err != nil {
		sink.release()
		return err
	}
	if err := p.builder.startCommand(ctx, id, name, cmdArgs, sink); err != nil {
		sink.release()
		return commandFailure(err)
	}
	return nil
}

// commandFailure gives the errors of starting a command the Python
// classes the master knows.
func commandFailure(err error) error {
	var unknown *command.UnknownCommandError
	var missing *command.MissingArgsError
	if errors.As(err, &unknown) || errors.As(err, &missing) {
		e := pythonException(err)
		return pb.NewFailure(e.Class, e.Value, e.Bases...)
	}
	return err
}

// convertArgs turns the master's jellied arguments into command.Args,
// wrapping the remote objects transfers use and returning every remote
// reference found, so that all of them are released when the command ends.
func convertArgs(d *jelly.Dict) (command.Args, []*pb.RemoteReference) {
	var refs []*pb.RemoteReference
	args := make(command.Args, d.Len())
	for _, it := range d.Items {
		key, ok := command.TextValue(it.Key)
		if !ok {
			continue
		}
		switch key {
		case "writer":
			if r, ok := it.Value.(*pb.RemoteReference); ok {
				refs = append(refs, r)
				args[key] = &pbWriter{ref: r}
				continue
			}
		case "reader":
			if r, ok := it.Value.(*pb.RemoteReference); ok {
				refs = append(refs, r)
				args[key] = &pbReader{ref: r}
				continue
			}
		}
		args[key] = neutralValue(it.Value, &refs)
	}
	return args, refs
}

// neutralValue converts a jelly value to the plain Go values commands use.
func neutralValue(v any, refs *[]*pb.RemoteReference) any {
	switch x := v.(type) {
	case jelly.Tuple:
		return neutralSlice(x, refs)
	case jelly.List:
		return neutralSlice(x, refs)
	case jelly.Set:
		return neutralSlice(x, refs)
	case jelly.FrozenSet:
		return neutralSlice(x, refs)
	case *jelly.Dict:
		m := make(map[string]any, x.Len())
		for _, it := range x.Items {
			if k, ok := command.TextValue(it.Key); ok {
				m[k] = neutralValue(it.Value, refs)
			}
		}
		return m
	case *pb.RemoteReference:
		*refs = append(*refs, x)
		return x
	}
	return v
}

func neutralSlice(s []any, refs *[]*pb.RemoteReference) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = neutralValue(e, refs)
	}
	return out
}

// fieldsToDict builds the jelly dict for an ordered, neutral dict.
func fieldsToDict(fields []field) *jelly.Dict {
	d := &jelly.Dict{Items: make([]jelly.Item, 0, len(fields))}
	for _, f := range fields {
		v := f.Value
		if sub, ok := v.([]field); ok {
			v = fieldsToDict(sub)
		}
		d.Items = append(d.Items, jelly.Item{Key: f.Key, Value: v})
	}
	return d
}

func asSlice(v any) ([]any, bool) {
	switch x := v.(type) {
	case jelly.Tuple:
		return x, true
	case jelly.List:
		return x, true
	case []any:
		return x, true
	}
	return nil, false
}

// textArg reads an argument that may come positionally or by keyword.
func textArg(args []any, kwargs *jelly.Dict, pos int, name string) string {
	if pos < len(args) {
		if s, ok := command.TextValue(args[pos]); ok {
			return s
		}
		return fmt.Sprint(args[pos])
	}
	if v, ok := kwargs.Get(name); ok {
		if s, ok := command.TextValue(v); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	return ""
}
