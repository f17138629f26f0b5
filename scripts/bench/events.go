package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coder/websocket"
)

// buildEvents is a subscription to the master's "builds/*/finished"
// events over its WebSocket (Buildbot's www/ws.py, startConsuming): the
// bench learns that a build ended when the master says so, instead of
// asking every few milliseconds. Asking had a cost in what it measured:
// each REST answer took the master's one thread 4–13 ms (strace of a
// master during a directory upload), at 10 ms intervals during a short
// build, and so held up the short builds (ours) more than the long ones.
type buildEvents struct {
	conn *websocket.Conn
}

// finishedBuild is what a "builds/N/finished" event says of the build.
type finishedBuild struct {
	BuildID        int `json:"buildid"`
	BuildRequestID int `json:"buildrequestid"`
}

// subscribeFinishedBuilds connects to the master at baseURL (its web
// root, "http://host:port/") and waits until it has acknowledged the
// subscription, so that no build that ends afterwards goes unseen.
func subscribeFinishedBuilds(ctx context.Context, baseURL string) (*buildEvents, error) {
	url := "ws" + strings.TrimPrefix(strings.TrimSuffix(baseURL, "/"), "http") + "/ws"
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("subscribing to the master's build events at %s: %w", url, err)
	}
	conn.SetReadLimit(1 << 20)
	e := &buildEvents{conn: conn}
	req, _ := json.Marshal(map[string]any{"cmd": "startConsuming", "path": "builds/*/finished", "_id": 1})
	if err := conn.Write(ctx, websocket.MessageText, req); err != nil {
		e.close()
		return nil, fmt.Errorf("subscribing to the master's build events: %w", err)
	}
	for {
		msg, err := e.next(ctx)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("subscribing to the master's build events: %w", err)
		}
		if msg.ID == 1 {
			if msg.Code != 200 {
				e.close()
				return nil, fmt.Errorf("the master refused the subscription to build events: %d %s", msg.Code, msg.Error)
			}
			return e, nil
		}
	}
}

// wsMessage is one message of the master's WebSocket: an answer (_id,
// code, msg or error) or an event (k, m).
type wsMessage struct {
	ID    int             `json:"_id"`
	Code  int             `json:"code"`
	Error string          `json:"error"`
	Key   string          `json:"k"`
	Event json.RawMessage `json:"m"`
}

func (e *buildEvents) next(ctx context.Context) (wsMessage, error) {
	_, data, err := e.conn.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var msg wsMessage
	if err := json.Unmarshal(data, &msg); err != nil {
		return wsMessage{}, fmt.Errorf("a message from the master's WebSocket: %w", err)
	}
	return msg, nil
}

// waitFinished waits for the build of request brid to finish and returns
// the build's id.
func (e *buildEvents) waitFinished(ctx context.Context, brid int) (int, error) {
	for {
		msg, err := e.next(ctx)
		if err != nil {
			return 0, fmt.Errorf("waiting for the build of request %d: %w", brid, err)
		}
		if !strings.HasPrefix(msg.Key, "builds/") || !strings.HasSuffix(msg.Key, "/finished") {
			continue
		}
		var b finishedBuild
		if err := json.Unmarshal(msg.Event, &b); err != nil {
			return 0, fmt.Errorf("a build event from the master: %w", err)
		}
		if b.BuildRequestID == brid {
			return b.BuildID, nil
		}
	}
}

func (e *buildEvents) close() { _ = e.conn.Close(websocket.StatusNormalClosure, "") }
