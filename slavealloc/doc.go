// Package slavealloc is the home of the fleet allocator's packages: store
// (pools, masters and workers on SQLite or PostgreSQL), alloc (which master
// a worker gets), server (the HTTP API, the tac generator and the web
// page) and client (the REST client of the command-line front end). The
// program itself is cmd/slavealloc.
package slavealloc
