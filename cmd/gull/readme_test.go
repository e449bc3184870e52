package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gull/digest/config"
)

// configKeys lists every key the config file may hold, as the README
// writes them: "mail.smtp.host", "feeds[].url".
func configKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		keys = append(keys, key)
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			keys = append(keys[:len(keys)-1], configKeys(ft, key+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, configKeys(ft.Elem(), key+"[].")...)
		}
	}
	return keys
}

// The README is the only reference a user has: every key the config
// accepts has a row in its table, and nothing points at a document the
// repository does not hold.
func TestReadmeDocumentsEveryConfigKey(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n### Every key\n")
	if !ok {
		t.Fatal(`README.md has no "### Every key" section under Configuration`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	keys := configKeys(reflect.TypeFor[config.Config](), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d keys in config.Config: %q", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(table, "\n| `"+k+"` |") {
			t.Errorf("README.md's key table has no row for `%s`", k)
		}
	}
	for _, file := range []string{"../../README.md", "../../config.yaml", "../../examples/config.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "DESIGN.md") {
			t.Errorf("%s points to DESIGN.md, which is not in the repository", file)
		}
	}
}
