package service

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// plistValue is a decoded plist value: string, bool, int64 (kept as its
// text), []plistValue or map[string]plistValue.
type plistValue any

// parsePlist decodes a plist's top-level dict with encoding/xml, as
// launchd reads it.
func parsePlist(t *testing.T, text string) map[string]plistValue {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(text))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("no <plist>: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "plist" {
			break
		}
	}
	v, err := decodePlistValue(dec)
	if err != nil {
		t.Fatal(err)
	}
	dict, ok := v.(map[string]plistValue)
	if !ok {
		t.Fatalf("top-level value is %T, want a dict", v)
	}
	return dict
}

// decodePlistValue reads the next value element.
func decodePlistValue(dec *xml.Decoder) (plistValue, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			return decodePlistElement(dec, tok)
		case xml.EndElement:
			return nil, io.EOF // end of the enclosing array or dict
		}
	}
}

func decodePlistElement(dec *xml.Decoder, se xml.StartElement) (plistValue, error) {
	switch se.Name.Local {
	case "string", "integer", "key":
		var s string
		err := dec.DecodeElement(&s, &se)
		return s, err
	case "true", "false":
		return se.Name.Local == "true", dec.Skip()
	case "array":
		var items []plistValue
		for {
			v, err := decodePlistValue(dec)
			if errors.Is(err, io.EOF) {
				return items, nil
			}
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
	case "dict":
		dict := map[string]plistValue{}
		for {
			k, err := decodePlistValue(dec)
			if errors.Is(err, io.EOF) {
				return dict, nil
			}
			if err != nil {
				return nil, err
			}
			v, err := decodePlistValue(dec)
			if err != nil {
				return nil, fmt.Errorf("key %v has no value: %w", k, err)
			}
			dict[k.(string)] = v
		}
	}
	return nil, fmt.Errorf("unexpected <%s>", se.Name.Local)
}

func TestLaunchdPlist(t *testing.T) {
	basedir := `/Users/bb/my <worker> & "co"`
	d := Definition{Name: "buildslave-w1", Executable: "/usr/local/bin/buildslave", Basedir: basedir, User: "bb"}
	text, err := LaunchdPlist(d)
	if err != nil {
		t.Fatal(err)
	}
	dict := parsePlist(t, text)
	want := map[string]plistValue{
		"Label":             "buildslave-w1",
		"UserName":          "bb",
		"WorkingDirectory":  basedir,
		"StandardOutPath":   basedir + "/launchd.log",
		"StandardErrorPath": basedir + "/launchd.log",
		"RunAtLoad":         true,
		"KeepAlive":         true,
		"ThrottleInterval":  "30",
		"ExitTimeOut":       "3600",
	}
	for k, v := range want {
		if dict[k] != v {
			t.Errorf("%s = %#v, want %#v", k, dict[k], v)
		}
	}
	args, _ := dict["ProgramArguments"].([]plistValue)
	var argv []string
	for _, a := range args {
		s, _ := a.(string)
		argv = append(argv, s)
	}
	wantArgv := []string{d.Executable, "start", "--nodaemon", "--quiet", basedir}
	if !slices.Equal(argv, wantArgv) {
		t.Errorf("ProgramArguments = %q, want %q", argv, wantArgv)
	}
	if len(dict) != len(want)+1 {
		t.Errorf("the plist has %d keys, want %d: %v", len(dict), len(want)+1, dict)
	}
}

func TestLaunchdPlistWithoutUser(t *testing.T) {
	text, err := LaunchdPlist(Definition{Name: "w", Executable: "/bin/buildslave", Basedir: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := parsePlist(t, text)["UserName"]; ok {
		t.Errorf("UserName = %v, want none (root)", v)
	}
}
