package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Workers' passwords must go out in clear (the master checks them), so
// the allocator cannot hash them; with a key it keeps them encrypted at
// rest instead (AES-256-GCM, bound to the worker's name), so that the
// database, its backups and its replicas hold no usable password. The key
// lives in a file beside the server, not in the database.

// sealedPrefix marks an encrypted password in the database.
const sealedPrefix = "aesgcm:v1:"

// KeySize is the size of a password key.
const KeySize = 32

// SetPasswordKey makes the store encrypt the passwords it writes and
// decrypt the ones it reads.
func (s *Store) SetPasswordKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("a password key has %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	s.aead, err = cipher.NewGCM(block)
	return err
}

// seal returns what the database keeps for a worker's password.
func (s *Store) seal(worker, pw string) string {
	if s.aead == nil {
		return pw
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	ct := s.aead.Seal(nonce, nonce, []byte(pw), []byte(worker))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(ct)
}

// reveal turns what the database keeps back into the password.
func (s *Store) reveal(worker, stored string) (string, error) {
	b64, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	if s.aead == nil {
		return "", fmt.Errorf("worker %s's password is encrypted: give the password key (--password-key-file)", worker)
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(ct) < s.aead.NonceSize() {
		return "", fmt.Errorf("worker %s's stored password is damaged", worker)
	}
	pt, err := s.aead.Open(nil, ct[:s.aead.NonceSize()], ct[s.aead.NonceSize():], []byte(worker))
	if err != nil {
		return "", fmt.Errorf("worker %s's password does not open with this password key", worker)
	}
	return string(pt), nil
}

// EncryptPasswords encrypts the passwords still stored in clear, as they
// were before a key was given, and returns how many.
func (s *Store) EncryptPasswords(ctx context.Context) (int, error) {
	if s.aead == nil {
		return 0, errors.New("no password key")
	}
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT name, password FROM workers")
		if err != nil {
			return err
		}
		clear := map[string]string{}
		for rows.Next() {
			var name, pw string
			if err := rows.Scan(&name, &pw); err != nil {
				rows.Close()
				return err
			}
			if !strings.HasPrefix(pw, sealedPrefix) {
				clear[name] = pw
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for name, pw := range clear {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE workers SET password = ? WHERE name = ?"), s.seal(name, pw), name); err != nil {
				return err
			}
		}
		n = len(clear)
		return nil
	})
	return n, err
}

// ReadKeyFile reads a password key: KeySize bytes, base64-encoded, in a
// file only its owner can read.
func ReadKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the password key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		return nil, fmt.Errorf("%s is readable by others (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("%s does not hold a password key (%d base64-encoded bytes; make one with 'slavealloc key new FILE')", path, KeySize)
	}
	return key, nil
}

// WriteNewKeyFile creates path (mode 0600, not replacing a file) with a
// new random key.
func WriteNewKeyFile(path string) error {
	key := make([]byte, KeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating the password key: %w", err)
	}
	if _, err := fmt.Fprintln(f, base64.StdEncoding.EncodeToString(key)); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
