package command

// execTakesText: Windows starts processes with a UTF-16 command line, so a
// process gets its arguments as text whatever the encoding; they are still
// encoded first, to fail where the reference fails.
const execTakesText = true
