package command

// KeepDescriptorsFromChildren does nothing on Windows: Go starts a process
// with an explicit list of the handles it inherits (its standard handles),
// never every inheritable handle the worker holds.
func KeepDescriptorsFromChildren() {}
