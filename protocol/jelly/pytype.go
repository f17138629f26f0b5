package jelly

import (
	"math/big"
	"reflect"
)

// TypeName is the Python type name of a value as this package represents
// it (see the table in types.go), for error messages a Python peer reads:
// "dict", not "*jelly.Dict". A value of no jelly type is named by its Go
// type's bare name, which for the references package pb wraps is Twisted's
// own class name (RemoteReference).
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, *big.Int:
		return "int"
	case float32, float64:
		return "float"
	case []byte:
		return "bytes"
	case string:
		return "str"
	case Tuple:
		return "tuple"
	case List, []any:
		return "list"
	case *Dict, map[string]any:
		return "dict"
	case Set:
		return "set"
	case FrozenSet:
		return "frozenset"
	case *Failure:
		return "Failure"
	case Remote, Local:
		return "RemoteReference"
	case Unpersistable:
		return "Unpersistable"
	case Opaque:
		if tag := v.Tag; tag != "decimal" {
			return tag
		}
		return "Decimal"
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return "object"
}
