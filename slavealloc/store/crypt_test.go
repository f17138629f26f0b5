package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPasswordsEncryptedAtRest: with a key the database holds no
// password in clear, the API sees them as before, passwords stored before
// the key are encrypted on request, and without the key (or with another)
// they are refused rather than served garbled.
func TestPasswordsEncryptedAtRest(t *testing.T) {
	eachDB(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openInit(t, url)
		fleet(t, s)
		_, err := s.CreateWorker(ctx, Worker{Name: "old", Password: "legacy-pw", Pool: "p", Enabled: true})
		must(t, err)

		dir := t.TempDir()
		keyFile := filepath.Join(dir, "key")
		must(t, WriteNewKeyFile(keyFile))
		key, err := ReadKeyFile(keyFile)
		must(t, err)
		must(t, s.SetPasswordKey(key))
		n, err := s.EncryptPasswords(ctx)
		if err != nil || n != 1 {
			t.Fatalf("EncryptPasswords = %d, %v", n, err)
		}
		_, err = s.CreateWorker(ctx, Worker{Name: "new", Password: "fresh-pw", Pool: "p", Enabled: true})
		must(t, err)
		pw := "changed-pw"
		_, err = s.UpdateWorker(ctx, "old", WorkerPatch{Password: &pw}, 0)
		must(t, err)

		rows, err := s.db.QueryContext(ctx, "SELECT password FROM workers")
		must(t, err)
		for rows.Next() {
			var stored string
			if err := rows.Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stored, sealedPrefix) || strings.Contains(stored, "pw") {
				t.Errorf("stored in clear: %q", stored)
			}
		}
		rows.Close()

		a, err := s.Allocate(ctx, "old", "x", time.Now())
		if err != nil || a.Worker.Password != "changed-pw" {
			t.Errorf("Allocate: %+v %v", a.Worker, err)
		}
		var dump bytes.Buffer
		must(t, s.DumpTo(ctx, &dump))
		if !strings.Contains(dump.String(), "fresh-pw") {
			t.Errorf("the portable dump does not hold the passwords")
		}

		plain, err := Open(ctx, url)
		must(t, err)
		defer plain.Close()
		if _, err := plain.Allocate(ctx, "new", "x", time.Now()); err == nil || !strings.Contains(err.Error(), "--password-key-file") {
			t.Errorf("without the key: %v", err)
		}
		other := make([]byte, KeySize)
		must(t, plain.SetPasswordKey(other))
		if _, err := plain.GetWorker(ctx, "new", true); err == nil || !strings.Contains(err.Error(), "does not open") {
			t.Errorf("with another key: %v", err)
		}
		// Listings without passwords need no key.
		if _, err := plain.ListWorkers(ctx, "", false); err != nil {
			t.Errorf("listing without passwords: %v", err)
		}
	})
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	must(t, WriteNewKeyFile(p))
	if err := WriteNewKeyFile(p); err == nil {
		t.Error("replaced a key file")
	}
	if runtime.GOOS != "windows" { // POSIX permission bits
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadKeyFile(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("readable key file: %v", err)
		}
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(bad); err == nil {
		t.Error("accepted a short key")
	}
}
