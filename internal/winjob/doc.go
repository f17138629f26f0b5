// Package winjob creates the Windows job objects that take a process tree
// down with them: Windows keeps a process's children alive when it dies,
// unless they are in a job that is closed. The worker puts itself in one
// (cmd/buildslave) and each command's process tree in another
// (agent/command). Elsewhere the package is empty: process groups and the
// service manager do that work.
package winjob
