package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// A buildbot.tac is Python, run by twistd. The ones that buildbot-worker
// create-worker (3.x, 4.x) and buildslave create-slave (0.8.x) write are a
// fixed template: imports, assignments of literals to the settings, a few
// lines that set up logging and build the worker service. ParseTac reads
// that subset without running anything: assignments of strings, numbers,
// None, True and False to the variables it knows, the template's
// boilerplate recognised and skipped, and everything else reported as not
// understood.

// Tac is what ParseTac learnt from a buildbot.tac.
type Tac struct {
	// Config holds the settings found, over Defaults(). Basedir is the
	// tac's own value ("." for a relocatable worker, with Relocatable set).
	Config Config
	// Settings lists the tac variables carried over, in file order, as
	// "name = value" with the password hidden.
	Settings []string
	// Notes are things carried over with a change of meaning, or dropped
	// on purpose (usepty, a setting buildslave does not have).
	Notes []string
	// NotUnderstood lists the statements ParseTac could not read, as
	// "line N: text". Settings they may have made are not carried over.
	NotUnderstood []string
}

// tacStatement is one logical line: a statement with its continuation
// lines, and whether it is indented (inside a block).
type tacStatement struct {
	line     int
	text     string
	indented bool
}

// boilerplate matches the template's statements that carry no setting:
// imports, the relocatable guard and its body, the logging set-up, the
// 0.8 template's try/except around it, and the worker service itself.
// This file's patterns are compiled on first use, not at start: only
// create-slave, import and upgrade read a tac, and compiled they are
// 140 kB of heap that a running worker would keep for nothing.
var boilerplate = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`^(import|from)\s`),
		regexp.MustCompile(`^if\s+basedir\s*==\s*['"]\.['"]\s*:$`),
		regexp.MustCompile(`^basedir\s*=\s*os\.path\.abspath\(os\.path\.dirname\(__file__\)\)$`),
		regexp.MustCompile(`^application\s*=\s*service\.Application\(\s*['"](buildbot-worker|buildslave)['"]\s*\)$`),
		regexp.MustCompile(`^logfile\s*=\s*LogFile\.fromFullPath\(`),
		regexp.MustCompile(`^application\.setComponent\(\s*ILogObserver\s*,`),
		regexp.MustCompile(`^(try|except(\s+\w+(\s+as\s+\w+)?)?|else)\s*:$`),
		regexp.MustCompile(`^pass$`),
		regexp.MustCompile(`^(s|w)\s*=\s*(Worker|BuildSlave)\(`),
		regexp.MustCompile(`^(s|w)\.setServiceParent\(\s*application\s*\)$`),
	}
})

// loggingLine marks the logging block, whose absence means the worker was
// created with --no-logrotate.
var loggingLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`LogFile\.fromFullPath|setComponent\(\s*ILogObserver`)
})

var assignment = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([A-Za-z_][A-Za-z_0-9]*)\s*=\s*(.*)$`)
})

// ParseTac reads a buildbot.tac's text. It fails only when the text is not
// a worker's tac at all or lacks what a worker needs (name, password,
// master); statements it cannot read are listed in NotUnderstood.
func ParseTac(text string) (*Tac, error) {
	stmts, err := tacStatements(text)
	if err != nil {
		return nil, err
	}
	t := &Tac{Config: Defaults()}
	// The templates' defaults for what they may omit.
	t.Config.Keepalive = DefaultKeepalive
	isTac, logging := false, false
	for _, s := range stmts {
		if strings.Contains(s.text, "service.Application(") {
			isTac = true
		}
		if loggingLine().MatchString(s.text) {
			logging = true
		}
		if s.indented && !strings.HasPrefix(s.text, "basedir") && !isBoilerplate(s.text) {
			t.notUnderstood(s)
			continue
		}
		if isBoilerplate(s.text) {
			continue
		}
		m := assignment().FindStringSubmatch(s.text)
		if m == nil {
			t.notUnderstood(s)
			continue
		}
		v, err := parsePyLiteral(m[2])
		if err != nil {
			t.notUnderstood(s)
			continue
		}
		if err := t.set(m[1], v); err != nil {
			t.NotUnderstood = append(t.NotUnderstood, fmt.Sprintf("line %d: %s: %v", s.line, redactTacLine(s.text), err))
		}
	}
	if !isTac {
		return nil, errors.New("this is not a worker's buildbot.tac: it has no service.Application('buildbot-worker') line")
	}
	t.Config.NoLogRotate = !logging
	if t.Config.Basedir == "" || t.Config.Basedir == relocatableBasedir {
		t.Config.Basedir = relocatableBasedir
		t.Config.Relocatable = true
	}
	var missing []string
	if t.Config.Name == "" {
		missing = append(missing, "workername")
	}
	if t.Config.Password == "" {
		missing = append(missing, "passwd")
	}
	if t.Config.ConnectionString == "" && t.Config.MasterHost == "" {
		missing = append(missing, "buildmaster_host")
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("the tac gives no usable %s", strings.Join(missing, ", "))
	}
	return t, nil
}

func isBoilerplate(s string) bool {
	for _, re := range boilerplate() {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func (t *Tac) notUnderstood(s tacStatement) {
	t.NotUnderstood = append(t.NotUnderstood, fmt.Sprintf("line %d: %s", s.line, redactTacLine(s.text)))
}

// redactTacLine keeps a password out of messages: a statement naming the
// password variable is shown without its value.
func redactTacLine(s string) string {
	if m := assignment().FindStringSubmatch(s); m != nil && m[1] == "passwd" {
		return "passwd = [redacted]"
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// set assigns one tac variable.
func (t *Tac) set(name string, v pyValue) error {
	c := &t.Config
	shown := v.src
	var err error
	switch name {
	case "basedir":
		c.Basedir, err = v.str(false)
	case "rotateLength":
		var n int
		n, err = v.int(false)
		c.LogSize = int64(n)
	case "maxRotatedFiles":
		c.LogCount, err = v.int(true)
		if err == nil && v.none {
			t.Notes = append(t.Notes, "maxRotatedFiles = None (keep every rotated log) is log_count = 0, which means the same")
		}
	case "buildmaster_host":
		c.MasterHost, err = v.str(true)
	case "port":
		c.MasterPort, err = v.int(true)
		if err == nil && v.none {
			c.MasterPort = DefaultPort
		}
	case "connection_string":
		c.ConnectionString, err = v.str(true)
	case "proxy_connection_string":
		c.ProxyConnectionString, err = v.str(true)
	case "workername", "slavename":
		c.Name, err = v.str(false)
	case "passwd":
		c.Password, err = v.str(false)
		shown = "[redacted]"
	case "keepalive":
		c.Keepalive, err = v.int(true)
	case "umask":
		var u int
		u, err = v.int(true)
		if err == nil && !v.none {
			if u < 0 || u > MaxUmask {
				return fmt.Errorf("umask %#o is out of range 0..0777", u)
			}
			c.Umask = &u
			shown = fmt.Sprintf("0o%o", u)
		}
	case "maxdelay":
		c.MaxDelay, err = v.int(true)
		if err == nil && v.none {
			c.MaxDelay = DefaultMaxDelay
		}
	case "maxretries":
		c.MaxRetries, err = v.int(true)
	case "numcpus":
		c.NumCPUs, err = v.int(true)
	case "allow_shutdown":
		c.AllowShutdown, err = v.str(true)
		if err == nil && c.AllowShutdown != "" && c.AllowShutdown != ShutdownFile && c.AllowShutdown != ShutdownSignal {
			return fmt.Errorf("allow_shutdown %q is not 'file' or 'signal'", c.AllowShutdown)
		}
	case "use_tls":
		c.UseTLS, err = v.bool()
	case "delete_leftover_dirs":
		c.DeleteLeftoverDirs, err = v.bool()
	case "protocol":
		c.Protocol, err = v.str(false)
	case "unicode_encoding":
		c.UnicodeEncoding, err = v.str(true)
	case "usepty", "usePTY":
		t.Notes = append(t.Notes, fmt.Sprintf("%s = %s dropped: buildslave runs commands in a PTY only when the master asks (usePTY of a step)", name, v.src))
		return nil
	case "keepaliveTimeout":
		t.Notes = append(t.Notes, "keepaliveTimeout dropped: the keepalive deadline is the keepalive interval (at least 5 s)")
		return nil
	default:
		return fmt.Errorf("%s is not a setting buildslave knows", name)
	}
	if err != nil {
		return err
	}
	t.Settings = append(t.Settings, name+" = "+shown)
	return nil
}

// tacStatements splits text into logical lines: comments dropped, lines
// joined while brackets are open or a line ends in a backslash.
func tacStatements(text string) ([]tacStatement, error) {
	var out []tacStatement
	var cur strings.Builder
	depth, start := 0, 0
	indented := false
	for i, line := range strings.Split(text, "\n") {
		code, d, err := stripComment(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if cur.Len() == 0 {
			if strings.TrimSpace(code) == "" {
				continue
			}
			start = i + 1
			indented = code[0] == ' ' || code[0] == '\t'
		} else {
			cur.WriteByte(' ')
		}
		code = strings.TrimSpace(code)
		cont := strings.HasSuffix(code, "\\")
		cur.WriteString(strings.TrimSuffix(code, "\\"))
		depth += d
		if depth < 0 {
			return nil, fmt.Errorf("line %d: unbalanced brackets", i+1)
		}
		if depth == 0 && !cont {
			out = append(out, tacStatement{line: start, text: strings.TrimSpace(cur.String()), indented: indented})
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: statement not finished at the end of the file", start)
	}
	return out, nil
}

// stripComment removes a trailing comment from line and counts the
// brackets it opens (negative: closes), both outside string literals.
func stripComment(line string) (code string, depth int, err error) {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			switch c {
			case '\\':
				i++
			case quote:
				quote = 0
			}
		case c == '\'' || c == '"':
			if strings.HasPrefix(line[i:], `"""`) || strings.HasPrefix(line[i:], `'''`) {
				return "", 0, errors.New("triple-quoted strings are not supported")
			}
			quote = c
		case c == '#':
			return line[:i], depth, nil
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
	}
	if quote != 0 {
		return "", 0, errors.New("unterminated string")
	}
	return line, depth, nil
}

// pyValue is a Python literal: a string, an integer, None or a boolean.
type pyValue struct {
	src      string
	isStr    bool
	s        string
	isInt    bool
	n        int64
	none     bool
	isBool   bool
	boolean  bool
	isFloat  bool
	floatVal float64
}

var (
	pyDecimal = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[+-]?(0|[1-9][0-9_]*)$`) })
	pyOctal   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^0[oO]?[0-7_]+$`) })
	pyHex     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^0[xX][0-9a-fA-F_]+$`) })
	pyFloat   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[+-]?[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?$`) })
)

// parsePyLiteral reads the literals the tac templates write. Octal accepts
// Python 2's 022 as well as 0o22, as umask is written as the user typed it.
func parsePyLiteral(src string) (pyValue, error) {
	src = strings.TrimSpace(src)
	v := pyValue{src: src}
	switch {
	case src == "None":
		v.none = true
	case src == "True" || src == "False":
		v.isBool, v.boolean = true, src == "True"
	case pyDecimal().MatchString(src):
		n, err := strconv.ParseInt(strings.ReplaceAll(src, "_", ""), 10, 64)
		if err != nil {
			return v, err
		}
		v.isInt, v.n = true, n
	case pyOctal().MatchString(src):
		digits := strings.ReplaceAll(strings.TrimLeft(src[1:], "oO"), "_", "")
		n, err := strconv.ParseInt(digits, 8, 64)
		if err != nil {
			return v, err
		}
		v.isInt, v.n = true, n
	case pyHex().MatchString(src):
		n, err := strconv.ParseInt(strings.ReplaceAll(src[2:], "_", ""), 16, 64)
		if err != nil {
			return v, err
		}
		v.isInt, v.n = true, n
	case pyFloat().MatchString(src):
		f, err := strconv.ParseFloat(src, 64)
		if err != nil {
			return v, err
		}
		v.isFloat, v.floatVal = true, f
	default:
		s, err := parsePyString(src)
		if err != nil {
			return v, err
		}
		v.isStr, v.s = true, s
	}
	return v, nil
}

// parsePyString reads one single-quoted or double-quoted Python string,
// optionally prefixed with u or r.
func parsePyString(src string) (string, error) {
	raw := false
	switch {
	case strings.HasPrefix(src, "r") || strings.HasPrefix(src, "R"):
		raw, src = true, src[1:]
	case strings.HasPrefix(src, "u") || strings.HasPrefix(src, "U"):
		src = src[1:]
	}
	if len(src) < 2 || (src[0] != '\'' && src[0] != '"') || src[len(src)-1] != src[0] {
		return "", errors.New("not a literal")
	}
	q, body := src[0], src[1:len(src)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == q {
			return "", errors.New("not a single string literal")
		}
		if c != '\\' || raw {
			if c == '\\' && i+1 < len(body) { // raw: keep both
				b.WriteByte(c)
				i++
				c = body[i]
			}
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(body) {
			return "", errors.New("string ends in a backslash")
		}
		i++
		switch e := body[i]; e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'x', 'u', 'U':
			size := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+1+size > len(body) {
				return "", fmt.Errorf("short \\%c escape", e)
			}
			n, err := strconv.ParseUint(body[i+1:i+1+size], 16, 32)
			if err != nil || n > math.MaxInt32 {
				return "", fmt.Errorf("bad \\%c escape", e)
			}
			b.WriteRune(rune(n))
			i += size
		default:
			// Python keeps unknown escapes as they are.
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}

func (v pyValue) str(noneOK bool) (string, error) {
	switch {
	case v.isStr:
		return v.s, nil
	case v.none && noneOK:
		return "", nil
	}
	return "", fmt.Errorf("%s is not a string", v.src)
}

func (v pyValue) int(noneOK bool) (int, error) {
	switch {
	case v.isInt && v.n >= 0 && v.n <= math.MaxInt32:
		return int(v.n), nil
	case v.isFloat && v.floatVal >= 0 && v.floatVal <= math.MaxInt32:
		return int(v.floatVal), nil
	case v.none && noneOK:
		return 0, nil
	}
	return 0, fmt.Errorf("%s is not a non-negative whole number", v.src)
}

func (v pyValue) bool() (bool, error) {
	switch {
	case v.isBool:
		return v.boolean, nil
	case v.isInt:
		return v.n != 0, nil
	case v.none:
		return false, nil
	}
	return false, fmt.Errorf("%s is not a boolean", v.src)
}
