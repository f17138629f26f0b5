package pytext

import (
	"math/big"
	"reflect"
)

// TypeName names the type of a protocol-neutral value (what either
// protocol's adapter hands the commands) as Python would, for the errors
// the master shows: "dict", not "map[string]interface {}". A value of
// another type (a transfer's remote object) is named by its Go type's bare
// name.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, *big.Int:
		return "int"
	case float32, float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any, []string:
		return "list"
	case map[string]any:
		return "dict"
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map:
		return "dict"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "list"
	case reflect.String:
		return "str"
	}
	if t.Name() != "" {
		return t.Name()
	}
	return "object"
}
