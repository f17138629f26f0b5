package banana

import "errors"

// Limits shared by the decoder and the encoder.
const (
	// SizeLimit is the largest string length or list element count Twisted
	// accepts (its SIZE_LIMIT); a larger claim from the peer is an error.
	SizeLimit = 640 * 1024

	// PrefixLimit is the longest prefix, in bytes, Twisted accepts. It also
	// bounds integers: 64 base-128 digits hold at most 2^448-1.
	PrefixLimit = 64

	// MaxDepth bounds list nesting: a top-level list is at depth 1. Twisted
	// has no such limit (Python's recursion limit plays that role when it
	// encodes), but without one a peer could make the decoder hold an
	// unbounded stack. PB messages nest a few dozen levels at most, so 512
	// leaves ample room. The encoder refuses deeper values too, so that we
	// never send what we would refuse to read.
	MaxDepth = 512
)

// Type bytes (PB.md §1.2).
const (
	typeList    = 0x80
	typeInt     = 0x81
	typeString  = 0x82
	typeNeg     = 0x83
	typeFloat   = 0x84
	typeLongInt = 0x85
	typeLongNeg = 0x86
	typeVocab   = 0x87
)

// maxIntBits is the widest magnitude PrefixLimit digits can carry.
const maxIntBits = 7 * PrefixLimit

// Errors reported for peer input that breaks the protocol, and for values
// the encoder refuses. Returned errors wrap them with detail; test with
// errors.Is.
var (
	ErrPrefixTooLong = errors.New("banana: prefix longer than 64 bytes")
	ErrTooLong       = errors.New("banana: string or list longer than SizeLimit")
	ErrTooDeep       = errors.New("banana: lists nested deeper than MaxDepth")
	ErrUnknownType   = errors.New("banana: unknown type byte")
	ErrVocabulary    = errors.New("banana: bad VOCAB element")
	ErrIntTooLarge   = errors.New("banana: integer magnitude above 2^448-1")
	ErrUnsupported   = errors.New("banana: value of unsupported type")
)
