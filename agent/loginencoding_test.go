package agent

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/config"
)

func TestLoginCredentialsUseTheConfiguredEncoding(t *testing.T) {
	cfg := &config.Config{MasterHost: "127.0.0.1", MasterPort: 9, Name: "wé", Password: "pässword", UnicodeEncoding: "latin-1"}
	w, err := newWorker(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.loginName, []byte("w\xe9")) || !bytes.Equal(w.loginPassword, []byte("p\xe4ssword")) {
		t.Errorf("login bytes %q / %q, want latin-1", w.loginName, w.loginPassword)
	}
}

// A password the encoding cannot carry is a configuration error: Run stops
// at once, and says so without showing the password.
func TestUnencodablePasswordStopsRun(t *testing.T) {
	cfg := &config.Config{MasterHost: "127.0.0.1", MasterPort: 9, Name: "w1", Password: "s3cret€", UnicodeEncoding: "latin-1"}
	err := Run(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("Run = %v, want a password encoding error", err)
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "€") {
		t.Errorf("the error shows the password: %v", err)
	}
}
