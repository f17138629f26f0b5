// Package command holds the worker commands the master can start (shell, file
// transfers, filesystem commands) in a form that knows no wire protocol. A
// protocol adapter decodes the master's arguments into Args, resolves remote
// objects into FileWriter and FileReader, and receives the resulting updates
// through a Sink; the same command code then serves Perspective Broker and
// msgpack alike, as buildbot-worker's base.py does under its two adapters.
package command

import (
	"context"
	"os"
)

// Args are the arguments of one command as the master sent them, after the
// protocol adapter translated paths (COMMANDS.md §1.2). Values are nil, bool,
// int64, float64, string, []byte, []any, map[string]any, or a FileWriter or
// FileReader for the transfer commands. Python tuples arrive as []any too
// (an obfuscated argument is []any{"obfuscated", real, fake}).
type Args map[string]any

// Update is one status item sent to the master, e.g. {"stdout", "hello\n"}.
//
// Value types by key: "header", "stdout", "stderr", "failure_reason": string;
// "rc": int; "elapsed": float64; "log": LogText; "files": []string;
// "stat": Stat. The adapter maps LogText and Stat to Python tuples.
type Update struct {
	Key   string
	Value any
}

// LogText is the value of a "log" update: text from a watched log file.
type LogText struct {
	Name string
	Text string
}

// Stat is the value of a "stat" update, in os.stat_result order: mode, ino,
// dev, nlink, uid, gid, size, atime, mtime, ctime (integer seconds).
type Stat [10]int64

// Sink receives a running command's output. Implementations belong to the
// protocol adapters.
type Sink interface {
	// SendUpdates delivers updates in order. PB sends each as its own
	// update call; msgpack sends them as one message.
	SendUpdates(ctx context.Context, updates []Update) error
	// Complete reports the end of the command: failure is nil for a normal
	// end (the result comes from rc), or the error that made the command
	// itself fail (the master shows it as an EXCEPTION).
	Complete(ctx context.Context, failure error) error
}

// FileWriter is the master's end of an upload (its FileWriter or
// DirectoryWriter object).
type FileWriter interface {
	Write(ctx context.Context, data []byte) error
	Utime(ctx context.Context, atime, mtime float64) error
	Close(ctx context.Context) error
	// Unpack closes the writer and makes the master extract the uploaded
	// tar archive (DirectoryWriter only).
	Unpack(ctx context.Context) error
}

// FileReader is the master's end of a download (its FileReader object).
type FileReader interface {
	// Read returns up to n bytes; an empty result means end of file.
	Read(ctx context.Context, n int) ([]byte, error)
	Close(ctx context.Context) error
}

// PipelinedReader is a FileReader whose calls may be sent before the
// answers to the earlier ones arrive. A protocol adapter implements it when
// its peer serves one connection's calls in order, as a Buildbot master
// does over PB: a download then keeps a window of reads in flight instead
// of waiting a round trip for every block (see transferWindow).
type PipelinedReader interface {
	FileReader
	// StartRead sends a read of up to n bytes and returns at once; the
	// function returned waits for its answer (an empty result means end
	// of file). Reads started one after another are served in that
	// order, so their answers are consecutive blocks of the file. The
	// wait function is called at most once; a read never waited for is
	// abandoned, its answer dropped when it comes.
	StartRead(n int) (func(context.Context) ([]byte, error), error)
	// StartClose sends Close, served after every read started before it.
	StartClose() (func(context.Context) error, error)
}

// BlockRecycler is implemented by a FileReader whose blocks may be handed
// back once the download has written them, so that later answers reuse
// their memory instead of each allocating a new block.
type BlockRecycler interface {
	// Recycle takes back a block a read returned; the caller does not
	// touch it afterwards.
	Recycle(block []byte)
}

// PipelinedWriter is a FileWriter whose calls may be sent before the
// answers to the earlier ones arrive; see PipelinedReader. Calls are served
// in the order they were started, and each returned function waits for
// its call's answer, at most once.
type PipelinedWriter interface {
	FileWriter
	// StartWrite sends data; data may be reused once StartWrite returns.
	StartWrite(data []byte) (func(context.Context) error, error)
	StartUtime(atime, mtime float64) (func(context.Context) error, error)
	StartClose() (func(context.Context) error, error)
	StartUnpack() (func(context.Context) error, error)
}

// FileBlockWriter is a PipelinedWriter that can send a block straight
// from a file, without the worker reading it into memory (over PB on TCP,
// with sendfile): an upload's blocks then cost a copy less each.
type FileBlockWriter interface {
	PipelinedWriter
	// StartWriteFile sends the next bytes of f, at most n, from f's
	// offset, which it advances, as one write; it returns how many bytes
	// the write holds and the function that waits for its answer, or 0
	// and no write at the end of the file. An error with a write means
	// the write went out damaged (the file shrank or failed meanwhile):
	// the transfer must fail, and its writer must not be closed.
	StartWriteFile(f *os.File, n int) (int, func(context.Context) error, error)
}

// Command is one started command. Run blocks until the command has finished
// and reports through out; Interrupt may be called from another goroutine
// while Run is in progress.
type Command interface {
	Run(ctx context.Context, out *Output) error
	// Interrupt stops the command as the master asked (interruptCommand):
	// Run then returns after the kill procedure, and the runner sends no
	// "elapsed" update, as the reference does.
	Interrupt(why string)
}
