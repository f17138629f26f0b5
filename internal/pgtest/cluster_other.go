//go:build !unix

package pgtest

import "errors"

func startCluster() (string, func(), error) {
	return "", nil, errors.New("a private PostgreSQL cluster needs a Unix system")
}
