package command

import (
	"maps"
)

// Factory creates a command from the master's arguments. It checks only
// that the required arguments are present; everything else is examined when
// the command runs, so that a bad value ends the command with a failure the
// master shows, as with the reference worker.
type Factory func(args Args, env *Environment) (Command, error)

// protocolVersion is the command version advertised for every command. The
// master switches to the old argument names below 3.0 and enables newer
// features from higher versions on: 3.2 promises failure_reason updates
// (timeout, timeout_without_output, max_lines_failure) and 3.3 the
// max_lines argument of shell. Both are implemented, so this is what
// buildbot-worker 4.3 advertises (commands/base.py, command_version).
const protocolVersion = "3.3"

// Registry maps command names, as the master sends them, to factories.
// A Registry is not safe for concurrent modification, but New and Versions
// may be called concurrently once it is set up.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns a registry holding every command this package
// implements.
func NewRegistry() *Registry {
	r := &Registry{factories: make(map[string]Factory)}
	r.Register("shell", newShell)
	r.Register("uploadFile", newUpload)
	r.Register("upload_file", newUpload)
	r.Register("uploadDirectory", newUploadDir)
	r.Register("upload_directory", newUploadDir)
	r.Register("downloadFile", newDownload)
	r.Register("download_file", newDownload)
	r.Register("mkdir", fsFactory("MakeDirectory", []string{"paths"}, runMkdir))
	r.Register("rmdir", newRmdir)
	r.Register("cpdir", newCpdir)
	r.Register("stat", fsFactory("StatFile", nil, runStat))
	r.Register("glob", fsFactory("GlobPath", []string{"path"}, runGlob))
	r.Register("listdir", fsFactory("ListDir", nil, runListDir))
	r.Register("rmfile", fsFactory("RemoveFile", []string{"path"}, runRmFile))
	return r
}

// Register adds or replaces the factory for name.
func (r *Registry) Register(name string, f Factory) {
	r.factories[name] = f
}

// New creates the command called name. An unknown name gives an
// *UnknownCommandError; a factory's error (e.g. *MissingArgsError) is
// returned as is.
func (r *Registry) New(name string, args Args, env *Environment) (Command, error) {
	f, ok := r.factories[name]
	if !ok {
		return nil, &UnknownCommandError{Name: name}
	}
	return f(args, env)
}

// Versions returns each command name with the protocol version implemented,
// as getCommands reports them to the master.
func (r *Registry) Versions() map[string]string {
	v := make(map[string]string, len(r.factories))
	for name := range maps.Keys(r.factories) {
		v[name] = protocolVersion
	}
	return v
}
