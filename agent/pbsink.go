package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/protocol/jelly"
	"github.com/buildslave/buildslave/protocol/pb"
)

// maxUpdatesInFlight bounds the update calls sent but not yet answered.
// An unanswered call holds no payload (it is already on the socket, and TCP
// slows a fast command down), so the window only has to be wide enough for
// the master to pipeline its log writes, as it does for the reference,
// which never waits: with 32 a 50 MiB log took 30% longer to store
// (make bench), from a few hundred on the master sets the pace.
const maxUpdatesInFlight = 1024

// pbSink sends a command's updates to the master's RemoteCommand, one
// update call per item as buildbot-worker does.
type pbSink struct {
	ref      *pb.RemoteReference
	extra    []*pb.RemoteReference // writer/reader and strays, released at the end
	log      *slog.Logger
	inFlight []*pb.Pending
}

func (s *pbSink) SendUpdates(ctx context.Context, updates []command.Update) error {
	for _, u := range updates {
		if len(s.inFlight) >= maxUpdatesInFlight {
			if err := s.waitOldest(ctx); err != nil {
				return err
			}
		}
		pair := jelly.List{jelly.NewDict(u.Key, updateValue(u.Value)), int64(0)}
		p, err := s.ref.Start("update", jelly.List{pair})
		if err != nil {
			return err
		}
		s.inFlight = append(s.inFlight, p)
	}
	return nil
}

func (s *pbSink) waitOldest(ctx context.Context) error {
	p := s.inFlight[0]
	s.inFlight = s.inFlight[1:]
	if _, err := p.Wait(ctx); err != nil {
		return fmt.Errorf("sending an update: %w", err)
	}
	return nil
}

// Complete sends complete right behind the updates still in flight, as
// the reference does: the master serves them in order, and waiting for
// their answers first would make every command a round trip longer.
func (s *pbSink) Complete(ctx context.Context, failure error) error {
	defer s.release()
	var arg any
	if failure != nil {
		arg = failureOf(failure)
	}
	done, startErr := s.ref.Start("complete", arg)
	for len(s.inFlight) > 0 {
		if err := s.waitOldest(ctx); err != nil {
			s.log.Warn("an update failed", "err", err)
		}
	}
	if startErr != nil {
		return fmt.Errorf("sending complete: %w", startErr)
	}
	if _, err := done.Wait(ctx); err != nil {
		return fmt.Errorf("sending complete: %w", err)
	}
	return nil
}

// release drops every master reference this command held.
func (s *pbSink) release() {
	s.ref.Decref()
	for _, r := range s.extra {
		r.Decref()
	}
}

// updateValue maps the neutral update values to the Python types the master
// expects: log values and stat results are tuples, file lists are lists.
func updateValue(v any) any {
	switch x := v.(type) {
	case command.LogText:
		return jelly.Tuple{x.Name, x.Text}
	case command.Stat:
		t := make(jelly.Tuple, len(x))
		for i, n := range x {
			t[i] = n
		}
		return t
	case []string:
		l := make(jelly.List, len(x))
		for i, s := range x {
			l[i] = s
		}
		return l
	case int:
		return int64(x)
	}
	return v
}

// failureOf describes a command's own failure with the Python exception
// class the reference would have raised, so that the master's message
// reads the same. A failure that came from the master stays as it was.
func failureOf(err error) *jelly.Failure {
	var f *jelly.Failure
	if errors.As(err, &f) {
		return f
	}
	e := pythonException(err)
	return pb.NewFailure(e.Class, e.Value, e.Bases...)
}

// pbWriter is the master's FileWriter or DirectoryWriter.
type pbWriter struct{ ref *pb.RemoteReference }

func (w *pbWriter) Write(ctx context.Context, data []byte) error {
	_, err := w.ref.Call(ctx, "write", data)
	return err
}

// A master serves one connection's calls in order (PB.md), so the writer
// and the reader pipeline: command.PipelinedWriter and PipelinedReader.

func (w *pbWriter) StartWrite(data []byte) (func(context.Context) error, error) {
	return startCall(w.ref, "write", data)
}

// StartWriteFile implements command.FileBlockWriter: over TCP the block
// goes from the file to the socket by sendfile.
func (w *pbWriter) StartWriteFile(f *os.File, n int) (int, func(context.Context) error, error) {
	p, k, err := w.ref.StartFile("write", f, n)
	if p == nil {
		return k, nil, err
	}
	return k, func(ctx context.Context) error {
		_, err := p.Wait(ctx)
		return err
	}, err
}

func (w *pbWriter) StartUtime(atime, mtime float64) (func(context.Context) error, error) {
	return startCall(w.ref, "utime", jelly.Tuple{atime, mtime})
}

func (w *pbWriter) StartClose() (func(context.Context) error, error) {
	return startCall(w.ref, "close")
}

func (w *pbWriter) StartUnpack() (func(context.Context) error, error) {
	return startCall(w.ref, "unpack")
}

func startCall(ref *pb.RemoteReference, method string, args ...any) (func(context.Context) error, error) {
	p, err := ref.Start(method, args...)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		_, err := p.Wait(ctx)
		return err
	}, nil
}

func (w *pbWriter) Utime(ctx context.Context, atime, mtime float64) error {
	_, err := w.ref.Call(ctx, "utime", jelly.Tuple{atime, mtime})
	return err
}

func (w *pbWriter) Close(ctx context.Context) error {
	_, err := w.ref.Call(ctx, "close")
	return err
}

func (w *pbWriter) Unpack(ctx context.Context) error {
	_, err := w.ref.Call(ctx, "unpack")
	return err
}

// pbReader is the master's FileReader.
type pbReader struct{ ref *pb.RemoteReference }

func (r *pbReader) Read(ctx context.Context, n int) ([]byte, error) {
	v, err := r.ref.Call(ctx, "read", int64(n))
	return readBlock(v, err)
}

func (r *pbReader) StartRead(n int) (func(context.Context) ([]byte, error), error) {
	p, err := r.ref.Start("read", int64(n))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]byte, error) { return readBlock(p.Wait(ctx)) }, nil
}

// Recycle implements command.BlockRecycler: the broker's decoder reuses
// the block's memory for a later answer.
func (r *pbReader) Recycle(block []byte) { r.ref.Broker().ReuseBytes(block) }

func (r *pbReader) StartClose() (func(context.Context) error, error) {
	return startCall(r.ref, "close")
}

func (r *pbReader) Close(ctx context.Context) error {
	_, err := r.ref.Call(ctx, "close")
	return err
}

// translatePaths turns the master's PB path arguments into the absolute
// paths commands take (COMMANDS.md §1.2). Over PB the worker joins them with
// the builder directory; over msgpack the master sends them joined.
func translatePaths(name string, args command.Args, builderDir string) error {
	text := func(key string) (string, bool) {
		v, ok := args[key]
		if !ok || v == nil {
			return "", false
		}
		s, ok := command.TextValue(v)
		return s, ok
	}
	join := command.JoinPath
	switch name {
	case "shell":
		if wd, ok := text("workdir"); ok {
			args["workdir"] = join(builderDir, wd)
		}
	case "uploadFile", "uploadDirectory", "upload_file", "upload_directory":
		src, ok := text("workersrc")
		if !ok {
			src, ok = text("slavesrc")
		}
		if ok {
			wd, _ := text("workdir")
			args["path"] = join(builderDir, wd, command.ExpandUser(src))
		}
		delete(args, "workdir")
		delete(args, "workersrc")
		delete(args, "slavesrc")
	case "downloadFile", "download_file":
		dst, ok := text("workerdest")
		if !ok {
			dst, ok = text("slavedest")
		}
		if ok {
			wd, _ := text("workdir")
			args["path"] = join(builderDir, wd, command.ExpandUser(dst))
		}
		delete(args, "workdir")
		delete(args, "workerdest")
		delete(args, "slavedest")
	case "mkdir":
		if d, ok := text("dir"); ok {
			args["paths"] = []any{join(builderDir, d)}
		}
	case "rmdir":
		switch d := args["dir"].(type) {
		case string, []byte:
			s, _ := command.TextValue(d)
			args["paths"] = []any{join(builderDir, s)}
		case []any:
			paths := make([]any, 0, len(d))
			for _, e := range d {
				s, ok := command.TextValue(e)
				if !ok {
					return fmt.Errorf("rmdir: dir entries must be strings, got %s", jelly.TypeName(e))
				}
				paths = append(paths, join(builderDir, s))
			}
			args["paths"] = paths
		}
	case "cpdir":
		if d, ok := text("fromdir"); ok {
			args["from_path"] = join(builderDir, d)
		}
		if d, ok := text("todir"); ok {
			args["to_path"] = join(builderDir, d)
		}
	case "stat":
		if f, ok := text("file"); ok {
			wd, _ := text("workdir")
			args["path"] = join(builderDir, wd, f)
		}
	case "glob":
		if p, ok := text("path"); ok {
			args["path"] = join(builderDir, p)
		}
	case "listdir":
		if d, ok := text("dir"); ok {
			args["path"] = join(builderDir, d)
		}
	case "rmfile":
		if p, ok := text("path"); ok {
			args["path"] = join(builderDir, command.ExpandUser(p))
		}
	}
	return nil
}
