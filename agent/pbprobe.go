package agent

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/buildslave/buildslave/protocol/banana"
)

// probePB reads the master's dialect offer, the first thing a PB server
// sends, and leaves without choosing one.
func probePB(conn net.Conn) (string, error) {
	conn.SetDeadline(time.Now().Add(probeTimeout))
	rec := &recordingReader{r: conn}
	offer, err := banana.NewDecoder(rec).Decode()
	if err != nil {
		var nerr net.Error
		switch {
		case errors.As(err, &nerr) && nerr.Timeout() && len(rec.seen) == 0:
			return "", fmt.Errorf("nothing arrived within %s: a Buildbot master's worker port speaks first; this port waits (is it a web port?)", probeTimeout)
		case len(rec.seen) > 0:
			return "", fmt.Errorf("the far end is not a Buildbot PB port: it sent %q", preview(rec.seen))
		}
		return "", fmt.Errorf("the far end closed the connection before a PB dialect offer: %w", err)
	}
	dialects, _ := offer.([]any)
	var names []string
	for _, d := range dialects {
		if b, ok := d.([]byte); ok {
			names = append(names, string(b))
		}
	}
	for _, n := range names {
		if n == "pb" {
			return fmt.Sprintf("Perspective Broker: the master offers dialects %s", strings.Join(names, ", ")), nil
		}
	}
	return "", fmt.Errorf("the far end sent %v, not a PB dialect offer (it is not a Buildbot worker port)", offer)
}
