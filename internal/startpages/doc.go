// Package startpages gives back the pages of the running program's own
// file that only its start-up needed.
//
// A process's resident set counts every page of its program file that it
// has mapped, and the kernel maps up to 64 KiB around each page touched
// (fault-around). A Go program's start-up touches code and tables all
// over its file (every package's initialisation, flag parsing, TLS set-up,
// the runtime's function tables), so once it has started nearly all of
// its text and read-only data are resident: 10 of an idle worker's 12 MB,
// most of which an idle worker never uses again.
//
// Release drops those mappings with madvise(MADV_DONTNEED), on the
// private read-only mappings of the executable only: never on a writable
// one, whose pages may hold what the program changed. The pages stay in
// the page cache, and what runs later maps back what it uses on first
// use, as it would after the kernel reclaimed them under memory pressure.
// Nothing is lost but a few minor page faults. Only Linux has this
// accounting and this call in this form; elsewhere Release does nothing.
package startpages
