package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/slavealloc/store"
)

func addDBFlag(cmd *cobra.Command, dbURL *string) {
	cmd.Flags().StringVarP(dbURL, "db", "D", "", "database URL: sqlite:///relative.db, sqlite:////absolute.db or postgres://user@host/db")
	cmd.MarkFlagRequired("db")
}

func addKeyFlag(cmd *cobra.Command, keyFile *string) {
	cmd.Flags().StringVar(keyFile, "password-key-file", "", "key that keeps the workers' passwords encrypted in the database (see 'slavealloc key new')")
}

// openStore opens the database, with the password key if one is given.
func openStore(ctx context.Context, dbURL, keyFile string) (*store.Store, error) {
	var key []byte
	if keyFile != "" {
		var err error
		if key, err = store.ReadKeyFile(keyFile); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if key != nil {
		if err := st.SetPasswordKey(key); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

func newKeyCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Make the key that encrypts the workers' passwords at rest"}
	cmd.AddCommand(&cobra.Command{
		Use:   "new FILE",
		Short: "Write a new random password key to FILE (mode 0600)",
		Long: `Write a new random key to FILE, which must not exist. Give it to serve, dbdump
and dbload with --password-key-file: the database then holds the workers'
passwords encrypted (AES-256-GCM), and serve encrypts those stored before.
Keep the key apart from the database's backups; without it the passwords
are lost.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := store.WriteNewKeyFile(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote a new password key to %s\n", args[0])
			return nil
		},
	})
	return cmd
}

func newDBInitCommand(e *env) *cobra.Command {
	var dbURL string
	var force bool
	cmd := &cobra.Command{
		Use:   "dbinit -D URL",
		Short: "Create the allocator's tables in an empty database",
		Long: `Create the allocator's schema in the database URL names (an SQLite file is
created if missing). A database that already has the schema is refused;
--force drops everything in it first (back it up with dbdump).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := store.Open(cmd.Context(), dbURL)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Init(cmd.Context(), force); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "initialized the slavealloc schema (version %d)\n", store.SchemaVersion())
			return nil
		},
	}
	addDBFlag(cmd, &dbURL)
	cmd.Flags().BoolVar(&force, "force", false, "wipe a database that already has the schema")
	return cmd
}

func newDBDumpCommand(e *env) *cobra.Command {
	var dbURL, out, keyFile string
	cmd := &cobra.Command{
		Use:   "dbdump -D URL [-o FILE]",
		Short: "Write the whole database as portable JSON (passwords included)",
		Long: `Write every pool, master and worker, with the workers' passwords, as JSON that
dbload reads into any kind of database: a backup, or production copied into
staging. With -o the file is written atomically with mode 0600.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), dbURL, keyFile)
			if err != nil {
				return err
			}
			defer st.Close()
			if out == "" || out == "-" {
				return st.DumpTo(cmd.Context(), e.stdout)
			}
			tmp, err := os.CreateTemp(dirOf(out), ".slavealloc-dump-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if err := st.DumpTo(cmd.Context(), tmp); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), out)
		},
	}
	addDBFlag(cmd, &dbURL)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE (mode 0600) instead of standard output")
	addKeyFlag(cmd, &keyFile)
	return cmd
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}

func newDBLoadCommand(e *env) *cobra.Command {
	var dbURL, keyFile string
	cmd := &cobra.Command{
		Use:   "dbload -D URL [FILE]",
		Short: "Load a dbdump into an initialized, empty database",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{fmt.Errorf("dbload takes at most one FILE (default: standard input)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			in := e.stdin
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			st, err := openStore(cmd.Context(), dbURL, keyFile)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.LoadFrom(cmd.Context(), in); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "loaded")
			return nil
		},
	}
	addDBFlag(cmd, &dbURL)
	addKeyFlag(cmd, &keyFile)
	return cmd
}
