package agent

import (
	"fmt"

	"github.com/buildslave/buildslave/protocol/jelly"
	"github.com/buildslave/buildslave/protocol/pb"
)

// Parameter names of the reference's remote_ methods (buildbot_worker pb.py
// and base.py), for binding keyword arguments as Python does: Twisted calls
// remote_NAME(*args, **kwargs), so a master may name any argument.
var (
	botParams = map[string][]string{
		"print":          {"message"},
		"getWorkerInfo":  {},
		"getCommands":    {},
		"getVersion":     {},
		"setBuilderList": {"wanted"},
		"shutdown":       {},
	}
	builderParams = map[string][]string{
		"setMaster":        {"remote"},
		"print":            {"message"},
		"startBuild":       {},
		"startCommand":     {"command_ref", "stepId", "command", "args"},
		"interruptCommand": {"stepId", "why"},
		"shutdown":         {},
	}
)

// bindArgs returns a call's arguments in parameter order, the keyword ones
// moved into place, with Python's TypeError for what Python refuses. A
// method not in params is left as it came: it is answered NoSuchMethod.
// A refused call's references are released, since nothing will use them.
func bindArgs(params map[string][]string, method string, args []any, kwargs *jelly.Dict) ([]any, error) {
	bound, err := bindParams(params, method, args, kwargs)
	if err != nil {
		pb.DecrefAll(args)
		pb.DecrefAll(kwargs)
	}
	return bound, err
}

func bindParams(params map[string][]string, method string, args []any, kwargs *jelly.Dict) ([]any, error) {
	names, ok := params[method]
	if !ok || kwargs.Len() == 0 {
		if ok && len(args) > len(names) {
			return nil, tooManyArgs(method, names, len(args))
		}
		return args, nil
	}
	if len(args) > len(names) {
		return nil, tooManyArgs(method, names, len(args))
	}
	out := make([]any, len(names))
	set := make([]bool, len(names))
	copy(out, args)
	for i := range args {
		set[i] = true
	}
	for _, it := range kwargs.Items {
		key, ok := it.Key.(string)
		if !ok {
			return nil, typeError("keywords must be strings")
		}
		i := indexOf(names, key)
		if i < 0 {
			return nil, typeError(fmt.Sprintf("remote_%s() got an unexpected keyword argument %s", method, pyName(key)))
		}
		if set[i] {
			return nil, typeError(fmt.Sprintf("remote_%s() got multiple values for argument %s", method, pyName(key)))
		}
		out[i], set[i] = it.Value, true
	}
	var missing []string
	for i, ok := range set {
		if !ok {
			missing = append(missing, pyName(names[i]))
		}
	}
	if len(missing) > 0 {
		return nil, typeError(fmt.Sprintf("remote_%s() missing %d required positional argument%s: %s",
			method, len(missing), plural(len(missing)), joinPython(missing)))
	}
	return out, nil
}

func tooManyArgs(method string, names []string, got int) error {
	// Python counts self.
	return typeError(fmt.Sprintf("remote_%s() takes %d positional argument%s but %d were given",
		method, len(names)+1, plural(len(names)+1), got+1))
}

func typeError(msg string) error { return pb.NewFailure("builtins.TypeError", msg) }

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// joinPython joins names as Python's argument errors do: 'a', 'b' and 'c'.
func joinPython(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	s := ""
	for _, n := range names[:len(names)-1] {
		s += n + ", "
	}
	return s + "and " + names[len(names)-1]
}

// pyName is a name as Python's repr shows it in these errors.
func pyName(s string) string { return "'" + s + "'" }
