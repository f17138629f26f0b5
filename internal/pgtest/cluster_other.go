//go:build !unix

package pgtest

import "errors"

func startCluster() (string, func(), error) {
	return "", nil, errNoCluster
}

// errNoCluster: the PostgreSQL tests run in the Unix build, also in CI.
func unsupported(err error) bool { return errors.Is(err, errNoCluster) }

var errNoCluster = errors.New("a private PostgreSQL cluster needs a Unix system; the PostgreSQL tests run in the Unix build")
