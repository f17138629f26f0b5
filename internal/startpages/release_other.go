//go:build !linux

package startpages

import "errors"

// Release does nothing here (see the package comment) and says so with
// errors.ErrUnsupported.
func Release() (before, after int64, err error) {
	return 0, 0, errors.ErrUnsupported
}
