// Package banana implements Twisted's Banana encoding, the framing layer of
// Perspective Broker: a stream of self-delimiting expressions built from
// integers, floats, byte strings and lists.
//
// Decoded values have these Go types:
//
//	int64     INT, NEG, and LONGINT/LONGNEG that fit in an int64
//	*big.Int  LONGINT/LONGNEG outside the int64 range
//	float64   FLOAT
//	[]byte    STRING, and VOCAB expanded to its word
//	[]any     LIST
//
// The encoder accepts the same types (plus the other Go integer kinds and
// string, which is written as its bytes) and chooses the encoding Twisted would,
// so re-encoding a decoded expression reproduces it byte for byte.
//
// The "pb" dialect adds a fixed vocabulary: in it, the encoder writes any byte
// string equal to a vocabulary word as a VOCAB index, and the decoder accepts
// VOCAB elements. Before the dialect is chosen VOCAB is a protocol error.
//
// Both directions enforce Twisted's limits (a string or list longer than
// SizeLimit, a prefix longer than 64 bytes) and return an error instead of
// allocating for an oversized peer claim.
package banana
