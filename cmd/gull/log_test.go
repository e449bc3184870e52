package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// A duration in the JSON log reads as a person writes it ("2s"), not as
// nanoseconds: the retry's wait is what an operator looks up first.
func TestLogDurationsReadable(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		a := &app{stderr: &buf, logFormat: format}
		if err := a.setupLog(); err != nil {
			t.Fatal(err)
		}
		a.log.Warn("temporary failure; trying again", "wait", 2*time.Second, "took", 1500*time.Millisecond)
		if format == "text" {
			if !bytes.Contains(buf.Bytes(), []byte("wait=2s took=1.5s")) {
				t.Errorf("text log %q; want wait=2s took=1.5s", buf.String())
			}
			continue
		}
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%v: %s", err, buf.String())
		}
		if line["wait"] != "2s" || line["took"] != "1.5s" {
			t.Errorf("JSON log %s; want \"wait\":\"2s\" and \"took\":\"1.5s\"", buf.String())
		}
	}
}
