// Package plainfile opens regular files for reading without offering them
// to Go's network poller.
//
// On Linux os.Open puts every new descriptor in non-blocking mode and asks
// epoll to watch it; epoll refuses a regular file (EPERM) and os puts the
// mode back: five system calls besides the open (strace). A directory
// upload opens every file of its tree, so they were a sixth of its CPU.
// Open here costs the open and one fcntl. Elsewhere it is os.Open, which
// does not probe regular files on the BSDs and macOS.
package plainfile
