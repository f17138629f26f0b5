package command

import (
	"fmt"
	"strings"
)

// UnknownCommandError reports a command name no factory is registered for.
// The message is the reference worker's, which the master shows in the
// step's exception; with the command's id known, it is 4.3's
// "(command <id>): unrecognized WorkerCommand '<name>'" (base.py,
// ProtocolCommandBase).
type UnknownCommandError struct {
	Name string
	// CommandID is the id the master gave the command, if known.
	CommandID string
}

func (e *UnknownCommandError) Error() string {
	if e.CommandID != "" {
		return fmt.Sprintf("(command %s): unrecognized WorkerCommand '%s'", e.CommandID, e.Name)
	}
	return fmt.Sprintf("unrecognized WorkerCommand '%s'", e.Name)
}

// MissingArgsError reports required arguments the master did not send.
type MissingArgsError struct {
	// Command is the reference worker's class name for the command (e.g.
	// "WorkerShellCommand"): the message then reads as the Python worker's
	// ValueError does.
	Command string
	Missing []string
}

func (e *MissingArgsError) Error() string {
	return fmt.Sprintf("%s is missing args: %s", e.Command, strings.Join(e.Missing, ", "))
}

// requireArgs returns a *MissingArgsError naming every key of names that
// args lacks. A key present with a nil value counts as missing: no command
// can use a None workdir or command, and failing at once gives the clearer
// message.
func requireArgs(class string, args Args, names ...string) error {
	var missing []string
	for _, n := range names {
		if v, ok := args[n]; !ok || v == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return &MissingArgsError{Command: class, Missing: missing}
	}
	return nil
}
