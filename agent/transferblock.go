package agent

import (
	"fmt"

	"github.com/buildslave/buildslave/internal/pytext"
)

// readBlock is the block a master's file reader answered to a read, over
// either protocol: bytes, or a str from a master whose file is already
// closed, or None at the end.
func readBlock(v any, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("the master's read returned %s, not bytes", pytext.TypeName(v))
}
