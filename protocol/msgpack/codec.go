package msgpack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"unicode/utf8"

	vm "github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Limits bound what Decode accepts, so that hostile bytes cost at most a
// little more memory than their own length. Zero fields take the defaults.
type Limits struct {
	MaxDepth int // nesting of arrays and maps; default 64
	MaxItems int // elements of one array or pairs of one map; default 1<<20
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxItems <= 0 {
		l.MaxItems = 1 << 20
	}
	return l
}

// DecodeError says why bytes are not a message, and where.
type DecodeError struct {
	Offset int // bytes consumed when the problem was found
	Msg    string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("msgpack: bad message at byte %d: %s", e.Offset, e.Msg)
}

type decoder struct {
	r     *bytes.Reader
	d     *vm.Decoder
	size  int
	limit Limits
}

func (d *decoder) errorf(format string, args ...any) error {
	return &DecodeError{Offset: d.size - d.r.Len(), Msg: fmt.Sprintf(format, args...)}
}

// wrap turns an error of the underlying reader into a DecodeError.
func (d *decoder) wrap(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.errorf("truncated")
	}
	return d.errorf("%v", err)
}

// Decode reads exactly one msgpack map from b; see the package doc for the
// values it produces and what it refuses. It never panics.
func Decode(b []byte, lim Limits) (Map, error) {
	r := bytes.NewReader(b)
	d := &decoder{r: r, d: vm.NewDecoder(r), size: len(b), limit: lim.withDefaults()}
	c, err := d.d.PeekCode()
	if err != nil {
		return nil, d.wrap(err)
	}
	if !isMapCode(c) {
		return nil, d.errorf("a message must be a map, not code 0x%02x", c)
	}
	v, err := d.value(1)
	if err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, d.errorf("%d bytes after the map", r.Len())
	}
	return v.(Map), nil
}

func isMapCode(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

func isArrayCode(c byte) bool {
	return msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32
}

func isIntCode(c byte) bool {
	if msgpcode.IsFixedNum(c) {
		return true
	}
	switch c {
	case msgpcode.Uint8, msgpcode.Uint16, msgpcode.Uint32, msgpcode.Uint64,
		msgpcode.Int8, msgpcode.Int16, msgpcode.Int32, msgpcode.Int64:
		return true
	}
	return false
}

func (d *decoder) value(depth int) (any, error) {
	c, err := d.d.PeekCode()
	if err != nil {
		return nil, d.wrap(err)
	}
	switch {
	case c == msgpcode.Nil:
		return nil, d.wrapIf(d.d.DecodeNil())
	case c == msgpcode.True || c == msgpcode.False:
		b, err := d.d.DecodeBool()
		return b, d.wrapIf(err)
	case c == msgpcode.Uint64:
		n, err := d.d.DecodeUint64()
		if err != nil {
			return nil, d.wrap(err)
		}
		if n <= math.MaxInt64 {
			return int64(n), nil
		}
		return n, nil
	case isIntCode(c):
		n, err := d.d.DecodeInt64()
		return n, d.wrapIf(err)
	case c == msgpcode.Float:
		f, err := d.d.DecodeFloat32()
		return float64(f), d.wrapIf(err)
	case c == msgpcode.Double:
		f, err := d.d.DecodeFloat64()
		return f, d.wrapIf(err)
	case msgpcode.IsString(c):
		b, err := d.raw()
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, d.errorf("str is not valid UTF-8")
		}
		return string(b), nil
	case msgpcode.IsBin(c):
		return d.raw()
	case isArrayCode(c):
		return d.array(depth)
	case isMapCode(c):
		return d.mapValue(depth)
	case msgpcode.IsExt(c):
		return nil, d.errorf("ext types are not part of the protocol")
	}
	return nil, d.errorf("code 0x%02x is not msgpack", c)
}

func (d *decoder) wrapIf(err error) error {
	if err != nil {
		return d.wrap(err)
	}
	return nil
}

// raw reads a str or bin body, checking its length against the input first
// so that a lying length allocates nothing.
func (d *decoder) raw() ([]byte, error) {
	n, err := d.d.DecodeBytesLen()
	if err != nil {
		return nil, d.wrap(err)
	}
	if n < 0 || n > d.r.Len() {
		return nil, d.errorf("length %d runs past the end", n)
	}
	b := make([]byte, n)
	if err := d.d.ReadFull(b); err != nil {
		return nil, d.wrap(err)
	}
	return b, nil
}

// count checks a container's length: within the limit, and possible in what
// is left of the input (each element takes at least min bytes).
func (d *decoder) count(n, depth, min int) error {
	if depth > d.limit.MaxDepth {
		return d.errorf("nested deeper than %d", d.limit.MaxDepth)
	}
	if n < 0 || n > d.limit.MaxItems {
		return d.errorf("%d elements, more than the limit of %d", n, d.limit.MaxItems)
	}
	if n > d.r.Len()/min {
		return d.errorf("%d elements run past the end", n)
	}
	return nil
}

func (d *decoder) array(depth int) (any, error) {
	n, err := d.d.DecodeArrayLen()
	if err != nil {
		return nil, d.wrap(err)
	}
	if err := d.count(n, depth, 1); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		if out[i], err = d.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d *decoder) mapValue(depth int) (any, error) {
	n, err := d.d.DecodeMapLen()
	if err != nil {
		return nil, d.wrap(err)
	}
	if err := d.count(n, depth, 2); err != nil {
		return nil, err
	}
	out := make(Map, n)
	for i := range out {
		c, err := d.d.PeekCode()
		if err != nil {
			return nil, d.wrap(err)
		}
		if !msgpcode.IsString(c) {
			return nil, d.errorf("map key is not a str (code 0x%02x)", c)
		}
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[i].Key = k.(string)
		if out[i].Value, err = d.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EncodeError says which value could not be encoded.
type EncodeError struct {
	Path string // where in the message, e.g. "args[2]"
	Msg  string
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("msgpack: cannot encode %s: %s", e.Path, e.Msg)
}

// maxEncodeDepth stops a self-referencing value from recursing forever.
const maxEncodeDepth = 100

// Encode packs m as msgpack-python does with use_bin_type; see the package
// doc for the types it accepts.
func Encode(m Map) ([]byte, error) {
	var buf bytes.Buffer
	e := vm.NewEncoder(&buf)
	if err := encodeValue(e, m, &encodePath{key: "message"}, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeValue(e *vm.Encoder, v any, path *encodePath, depth int) error {
	if depth > maxEncodeDepth {
		return &EncodeError{Path: path.String(), Msg: "nested too deeply"}
	}
	var err error
	switch x := v.(type) {
	case nil:
		err = e.EncodeNil()
	case bool:
		err = e.EncodeBool(x)
	case int:
		err = e.EncodeInt(int64(x))
	case int8:
		err = e.EncodeInt(int64(x))
	case int16:
		err = e.EncodeInt(int64(x))
	case int32:
		err = e.EncodeInt(int64(x))
	case int64:
		err = e.EncodeInt(x)
	case uint:
		err = e.EncodeUint(uint64(x))
	case uint8:
		err = e.EncodeUint(uint64(x))
	case uint16:
		err = e.EncodeUint(uint64(x))
	case uint32:
		err = e.EncodeUint(uint64(x))
	case uint64:
		err = e.EncodeUint(x)
	case float32:
		err = e.EncodeFloat64(float64(x))
	case float64:
		err = e.EncodeFloat64(x)
	case string:
		if !utf8.ValidString(x) {
			return &EncodeError{Path: path.String(), Msg: "string is not valid UTF-8"}
		}
		err = e.EncodeString(x)
	case []byte:
		// EncodeBytes turns a nil slice into nil; the master expects bin.
		if err = e.EncodeBytesLen(len(x)); err == nil {
			_, err = e.Writer().Write(x)
		}
	case Map:
		if err = e.EncodeMapLen(len(x)); err != nil {
			break
		}
		for _, p := range x {
			at := encodePath{parent: path, key: p.Key}
			if err := encodeValue(e, p.Key, &at, depth+1); err != nil {
				return err
			}
			if err := encodeValue(e, p.Value, &at, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if err = e.EncodeArrayLen(len(x)); err != nil {
			break
		}
		for i, el := range x {
			at := encodePath{parent: path, index: i, element: true}
			if err := encodeValue(e, el, &at, depth+1); err != nil {
				return err
			}
		}
	case []int64:
		// The newline offsets of every log update: no boxing, no reflection.
		if err = e.EncodeArrayLen(len(x)); err != nil {
			break
		}
		for _, n := range x {
			if err = e.EncodeInt(n); err != nil {
				break
			}
		}
	case []float64:
		// And their timestamps.
		if err = e.EncodeArrayLen(len(x)); err != nil {
			break
		}
		for _, f := range x {
			if err = e.EncodeFloat64(f); err != nil {
				break
			}
		}
	case map[string]any:
		return encodeStringMap(e, reflect.ValueOf(x), path, depth)
	default:
		return encodeReflect(e, reflect.ValueOf(v), path, depth)
	}
	if err != nil {
		return &EncodeError{Path: path.String(), Msg: err.Error()}
	}
	return nil
}

// encodeReflect handles the other slices, arrays and string-keyed maps, and
// named types of the basic kinds.
func encodeReflect(e *vm.Encoder, rv reflect.Value, path *encodePath, depth int) error {
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return encodeValue(e, rv.Bytes(), path, depth)
		}
		if err := e.EncodeArrayLen(rv.Len()); err != nil {
			return &EncodeError{Path: path.String(), Msg: err.Error()}
		}
		for i := 0; i < rv.Len(); i++ {
			at := encodePath{parent: path, index: i, element: true}
			if err := encodeValue(e, rv.Index(i).Interface(), &at, depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return &EncodeError{Path: path.String(), Msg: "map keys must be strings"}
		}
		return encodeStringMap(e, rv, path, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return encodeValue(e, nil, path, depth)
		}
		return encodeValue(e, rv.Elem().Interface(), path, depth+1)
	case reflect.String:
		return encodeValue(e, rv.String(), path, depth)
	case reflect.Bool:
		return encodeValue(e, rv.Bool(), path, depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return encodeValue(e, rv.Int(), path, depth)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return encodeValue(e, rv.Uint(), path, depth)
	case reflect.Float32, reflect.Float64:
		return encodeValue(e, rv.Float(), path, depth)
	}
	if !rv.IsValid() {
		return encodeValue(e, nil, path, depth)
	}
	return &EncodeError{Path: path.String(), Msg: fmt.Sprintf("unsupported type %s", rv.Type())}
}

// encodeStringMap writes a Go map with its keys sorted, so that the same map
// always gives the same bytes.
func encodeStringMap(e *vm.Encoder, rv reflect.Value, path *encodePath, depth int) error {
	keys := make([]string, 0, rv.Len())
	for _, k := range rv.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	if err := e.EncodeMapLen(len(keys)); err != nil {
		return &EncodeError{Path: path.String(), Msg: err.Error()}
	}
	for _, k := range keys {
		at := encodePath{parent: path, key: k}
		if err := encodeValue(e, k, &at, depth+1); err != nil {
			return err
		}
		val := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
		if err := encodeValue(e, val.Interface(), &at, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// encodePath is where a value being encoded sits in its message, for an
// EncodeError: "message.args[1]". It is spelled out only when an error
// needs it, since formatting it for every value would cost more than
// encoding them.
type encodePath struct {
	parent  *encodePath
	key     string // a map key
	index   int    // or, with element set, an array index
	element bool
}

func (p *encodePath) String() string {
	if p.parent == nil {
		return p.key
	}
	if p.element {
		return fmt.Sprintf("%s[%d]", p.parent.String(), p.index)
	}
	return p.parent.String() + "." + p.key
}
