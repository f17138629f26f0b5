// Package msgpack is the worker side of Buildbot's msgpack_experimental_v7
// protocol: one msgpack map per binary WebSocket message, requests and
// responses in both directions matched by seq_number. It is wire only: it
// knows the envelope (op, seq_number, result, is_exception), not what any op
// means; the agent's adapter gives the ops their meaning.
//
// # API
//
// Values. A decoded message is a Map: its pairs in wire order, so that what is
// decoded re-encodes byte for byte. Decoded values are nil, bool, int64 (a
// uint64 above math.MaxInt64 stays uint64), float64, string (always valid
// UTF-8), []byte (msgpack bin), []any and Map.
//
//	type Pair struct { Key string; Value any }
//	type Map []Pair
//	func (m Map) Get(key string) (any, bool)           // the first pair with key
//	func (m Map) Has(key string) bool
//	func (m Map) String(key string) (string, bool)   // str values only
//	func (m Map) Int(key string) (int64, bool)       // any integer that fits
//	func (m Map) Map(key string) (Map, bool)
//	func (m Map) ToGo() map[string]any                // recursive: Map→map[string]any, nested too
//	func ToGo(v any) any
//
//	type Limits struct {
//	    MaxDepth   int // nesting of arrays and maps (default 64)
//	    MaxItems   int // elements of one array or pairs of one map (default 1<<20)
//	}
//	func Decode(b []byte, lim Limits) (Map, error) // exactly one map, nothing after it
//	func Encode(m Map) ([]byte, error)
//	type DecodeError struct { Offset int; Msg string }
//	type EncodeError struct { Path string; Msg string } // Path like "message.args[1]"
//
// Decode never panics, whatever the bytes; it refuses (with a *DecodeError)
// trailing bytes, a top level that is not a map, map keys that are not str,
// str that is not UTF-8, lengths beyond the input, and anything beyond lim.
// Encode packs as msgpack-python does (use_bin_type): string→str (an invalid
// UTF-8 string is an error, never a frame the master would drop), []byte→bin
// (nil too: an empty bin), ints in their smallest form, floats as float64,
// Map in its order, map[string]any (and other string-keyed maps) with sorted
// keys, slices and arrays as arrays, named types by their kind; anything
// else (and self-reference deeper than 100) is an *EncodeError. A decoded
// float32 comes back as float64 (msgpack-python never writes float32).
//
// Sessions.
//
//	type Options struct {
//	    Name, Password string       // sent as Authorization: Basic; a Name containing ':' is refused
//	    Host           string       // authority for the URL and Host header; default conn.RemoteAddr()
//	    Path           string       // default "/"; a missing leading '/' is added
//	    UserAgent      string       // default "buildslave"
//	    MaxMessageSize int64        // largest message accepted from the master (default 64 MiB)
//	    Window         int          // most worker requests awaiting a response (default 64)
//	    Limits         Limits
//	    Logger         *slog.Logger // dropped messages are logged here; default discards
//	}
//	func Open(ctx context.Context, conn net.Conn, opts Options) (*Session, error)
//
//	type Handler interface {
//	    // ServeMsgpack answers one request from the master. The result is
//	    // encoded as by Encode. A non-nil error is answered with
//	    // is_exception and its Error() text as result, except ErrUnknownOp
//	    // (or an error wrapping it), answered "Command <op> does not exist.".
//	    ServeMsgpack(ctx context.Context, req *Request) (result any, err error)
//	}
//	type Request struct {
//	    Op     string
//	    Seq    int64
//	    Fields Map // every key but op and seq_number, in wire order
//	}
//	type HandlerFunc func(ctx context.Context, req *Request) (any, error)
//	var ErrUnknownOp = errors.New("msgpack: unknown op")
//
//	func (s *Session) Serve(ctx context.Context, h Handler) error
//	func (s *Session) Send(ctx context.Context, op string, fields Map) (*Pending, error)
//	func (s *Session) Call(ctx context.Context, op string, fields Map) (any, error)
//	func (s *Session) Ping(ctx context.Context) error
//	func (s *Session) Close() error
//	func (s *Session) Done() <-chan struct{}
//	func (s *Session) Err() error // nil while running; ErrClosed or ErrConnectionLost after
//
//	type Pending struct { Op string; Seq int64 }
//	func (p *Pending) Done() <-chan struct{}
//	func (p *Pending) Wait(ctx context.Context) (any, error)
//
// Errors.
//
//	type LoginRefusedError struct { Name string }      // HTTP 401: unknown name or wrong password
//	type HandshakeError struct { Status int; Reason string; Err error } // any other failed upgrade (400, 404, garbage, EOF)
//	type RemoteError struct { Op string; Seq int64; Text string } // the master answered is_exception
//	type PeerClosedError struct { Code int; Reason string } // a Close frame from the master, inside ErrConnectionLost
//	var ErrLoginRefused = errors.New("msgpack: login refused")    // *LoginRefusedError Is this
//	var ErrConnectionLost = errors.New("msgpack: connection lost")
//	var ErrClosed = errors.New("msgpack: session closed")
//
// # Contract
//
// Open runs the RFC 6455 client handshake over conn, which the caller has
// already dialled (TCP, TLS or through an HTTP proxy): GET <Path> with
// Authorization: Basic base64(name ":" password), both as UTF-8. It is
// bounded by ctx; when ctx ends first, conn is closed and ctx's error is
// returned wrapped in a *HandshakeError. 401 gives a *LoginRefusedError
// (errors.Is(err, ErrLoginRefused) also holds); 400 or any other answer a
// *HandshakeError carrying the status and reason. On any error conn is closed.
// On success the Session owns conn.
//
// Serve reads the connection until it ends and returns why: nil after
// Close, ctx's error after ctx ended (the connection is then closed), or an
// error wrapping ErrConnectionLost. Serve may be called once. Requests from
// the master are given to h one at a time, in arrival order, on a goroutine
// of their own (the one the Python worker's reactor would use), so a handler
// may Send/Call and wait without stopping the reader, and a start_command is
// always handled before an interrupt_command that follows it. A handler
// should return promptly (start_command answers once the command started);
// while it runs, at most 256 further requests are queued, after which the
// reader waits (and reads no responses either: a handler waiting on the
// master while the master floods requests would stall; the real master
// sends a few at a time and waits for their answers). h's ctx ends when the session ends. Messages without op or
// seq_number, text frames, undecodable messages and responses to no pending
// request are logged and dropped; the connection stays up, as with the
// reference worker. A message larger than MaxMessageSize ends the
// connection (the library closes it with status 1009): it cannot be skipped
// without reading it.
//
// Send numbers the request (a counter from 0 per session) and writes it as
// {op, fields..., seq_number}, the reference worker's layout (so fields for
// update/complete are {args, command_id}); it returns once the message is
// written, so two Sends from one goroutine reach the master in that order
// (update before complete). ctx bounds only the wait for a window slot
// (Window requests awaiting responses); the write itself runs under the
// session, since a write cut short would corrupt the stream, and a write
// that cannot finish (a silenced peer) is ended by Ping or Close. Responses
// are matched by seq_number in any order. Pending.Wait gives the result, a
// *RemoteError for is_exception, or, if the session ends first, an error
// wrapping ErrConnectionLost (ErrClosed after Close or a cancelled Serve). Cancelling Wait's ctx
// abandons the wait, not the request: its window slot is freed when the
// response arrives or the session ends. Call is Send then Wait.
//
// Ping sends a WebSocket ping and waits for its pong until ctx ends (the
// reply deadline); it needs Serve to be running, since pongs are read by it.
// The master's own pings are answered by the library.
// A ping that is not answered in time closes the session, so a half-open
// connection ends Serve with ErrConnectionLost. The Debian 3.7 master (autobahn)
// answers pings.
//
// Close sends a Close frame (bounded by a short deadline), closes conn and
// fails every pending request with ErrClosed. It is safe to call more than
// once and from any goroutine. Every method of Session is safe for
// concurrent use.
//
// # Libraries
//
// WebSocket: github.com/coder/websocket. It is maintained, has no
// dependencies, takes its connection from an http.Client whose transport we
// give the already-dialled conn (so TLS and proxies stay the agent's business),
// returns the HTTP response of a refused upgrade (status for 401/400), has a
// read limit, writes safely from several goroutines, and has a Ping(ctx) that
// waits for the matching pong, which is exactly the reply deadline liveness
// needs. (gorilla/websocket would need our own pong matching and write lock.)
//
// Codec: github.com/vmihailenco/msgpack/v5, used through its low-level
// Encoder/Decoder calls so that maps keep their wire order, str and bin stay
// apart, and the limits above are ours to enforce before anything is
// allocated.
package msgpack
