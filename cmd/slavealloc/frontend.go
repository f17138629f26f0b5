package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/slavealloc/client"
	"github.com/buildslave/buildslave/slavealloc/store"
	"github.com/buildslave/buildslave/slavealloc/token"
)

// apiFlags are the options every front-end command takes.
type apiFlags struct {
	api, tokenFile, caFile string
	json                   bool
}

func addAPIFlags(cmd *cobra.Command, f *apiFlags) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.api, "api", envOr("SLAVEALLOC_API", "http://127.0.0.1:8010"), "the allocator's URL ($SLAVEALLOC_API)")
	pf.StringVar(&f.tokenFile, "token-file", os.Getenv("SLAVEALLOC_TOKEN_FILE"), "file holding the token, needed for changes ($SLAVEALLOC_TOKEN_FILE)")
	pf.StringVar(&f.caFile, "ca-file", "", "PEM certificates to trust for an https:// allocator")
	pf.BoolVar(&f.json, "json", false, "print the allocator's JSON answer")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// client makes the API client; a change without a token file is refused
// here, before anything is sent.
func (f *apiFlags) client(needToken bool) (*client.Client, error) {
	tok := ""
	if f.tokenFile != "" {
		var err error
		if tok, err = token.ReadClient(f.tokenFile); err != nil {
			return nil, err
		}
	} else if needToken {
		return nil, &usageError{errors.New("a change needs --token-file (or $SLAVEALLOC_TOKEN_FILE)")}
	}
	return client.New(f.api, tok, f.caFile)
}

// call runs one request and prints its answer with show, or as JSON.
func call[T any](cmd *cobra.Command, f *apiFlags, e *env, method, path string, body any, show func(io.Writer, T)) error {
	c, err := f.client(method != "GET")
	if err != nil {
		return err
	}
	var out T
	if err := c.Do(cmd.Context(), method, path, body, &out); err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	show(e.stdout, out)
	return nil
}

func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newPoolCommand(e *env) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{Use: "pool", Short: "List and add pools"}
	addAPIFlags(cmd, &f)
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List the pools", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, &f, e, "GET", "/api/pools", nil, func(w io.Writer, ps []store.PoolInfo) {
				var rows [][]string
				for _, p := range ps {
					rows = append(rows, []string{p.Name, fmt.Sprint(p.Masters), fmt.Sprint(p.Workers)})
				}
				table(w, "POOL\tMASTERS\tWORKERS", rows)
			})
		},
	}, &cobra.Command{
		Use: "add NAME", Short: "Add a pool", Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, &f, e, "POST", "/api/pools", store.Pool{Name: args[0]}, func(w io.Writer, p store.PoolInfo) {
				fmt.Fprintf(w, "pool %s added\n", p.Name)
			})
		},
	})
	return cmd
}

func showMasters(w io.Writer, ms []store.Master) {
	var rows [][]string
	for _, m := range ms {
		mp := ""
		if m.MsgpackPort != 0 {
			mp = fmt.Sprint(m.MsgpackPort)
		}
		rows = append(rows, []string{m.Name, m.Pool, m.Host, fmt.Sprint(m.PBPort), mp, yesNo(m.Enabled), fmt.Sprint(m.Workers)})
	}
	table(w, "MASTER\tPOOL\tHOST\tPB PORT\tMSGPACK PORT\tENABLED\tWORKERS", rows)
}

func showMaster(w io.Writer, m store.Master) { showMasters(w, []store.Master{m}) }

func newMasterCommand(e *env) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{Use: "master", Short: "List, add, update, enable and disable masters"}
	addAPIFlags(cmd, &f)
	var pool string
	list := &cobra.Command{
		Use: "list [--pool POOL]", Short: "List the masters", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, &f, e, "GET", "/api/masters"+poolQuery(pool), nil, showMasters)
		},
	}
	list.Flags().StringVar(&pool, "pool", "", "only this pool's masters")
	var m struct {
		host           string
		pbPort, mpPort int
		pool           string
		disabled       bool
	}
	add := &cobra.Command{
		Use: "add NAME --host HOST --pb-port PORT --pool POOL", Short: "Add a master", Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			enabled := !m.disabled
			body := map[string]any{"name": args[0], "host": m.host, "pb_port": m.pbPort, "msgpack_port": m.mpPort, "pool": m.pool, "enabled": enabled}
			return call(cmd, &f, e, "POST", "/api/masters", body, showMaster)
		},
	}
	af := add.Flags()
	af.StringVar(&m.host, "host", "", "host name or address the workers connect to")
	af.IntVar(&m.pbPort, "pb-port", 9989, "the master's PB (worker) port")
	af.IntVar(&m.mpPort, "msgpack-port", 0, "the master's msgpack port, if it has one")
	af.StringVar(&m.pool, "pool", "", "the pool the master serves")
	af.BoolVar(&m.disabled, "disabled", false, "add it disabled: no worker is given it until it is enabled")
	add.MarkFlagRequired("host")
	add.MarkFlagRequired("pool")
	var up struct {
		host           string
		pbPort, mpPort int
		pool           string
	}
	update := &cobra.Command{
		Use: "update NAME [--host HOST] [--pb-port PORT] [--msgpack-port PORT] [--pool POOL]", Short: "Change a master's address or pool",
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			fl := cmd.Flags()
			if fl.Changed("host") {
				body["host"] = up.host
			}
			if fl.Changed("pb-port") {
				body["pb_port"] = up.pbPort
			}
			if fl.Changed("msgpack-port") {
				body["msgpack_port"] = up.mpPort
			}
			if fl.Changed("pool") {
				body["pool"] = up.pool
			}
			if len(body) == 0 {
				return &usageError{errors.New("update needs at least one of --host, --pb-port, --msgpack-port, --pool")}
			}
			return call(cmd, &f, e, "PATCH", "/api/masters/"+url.PathEscape(args[0]), body, showMaster)
		},
	}
	uf := update.Flags()
	uf.StringVar(&up.host, "host", "", "new host name or address")
	uf.IntVar(&up.pbPort, "pb-port", 0, "new PB port")
	uf.IntVar(&up.mpPort, "msgpack-port", 0, "new msgpack port (0: none)")
	uf.StringVar(&up.pool, "pool", "", "new pool; its workers are rebalanced at their next start")
	cmd.AddCommand(list, add, update)
	for _, action := range []string{"enable", "disable"} {
		cmd.AddCommand(&cobra.Command{
			Use: action + " NAME", Short: strings.ToUpper(action[:1]) + action[1:] + " a master", Args: exactArgs(1, "NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return call(cmd, &f, e, "POST", "/api/masters/"+url.PathEscape(args[0])+"/"+action, nil, showMaster)
			},
		})
	}
	return cmd
}

func poolQuery(pool string) string {
	if pool == "" {
		return ""
	}
	return "?pool=" + url.QueryEscape(pool)
}

func showWorkers(w io.Writer, ws []store.Worker) {
	var rows [][]string
	for _, wk := range ws {
		fetched := "never"
		if wk.LastFetch != nil {
			fetched = wk.LastFetch.Format("2006-01-02 15:04:05Z") + " from " + wk.LastFetchAddr
		}
		rows = append(rows, []string{wk.Name, wk.Pool, orDash(wk.CurrentMaster), orDash(wk.LockedMaster), yesNo(wk.Enabled), fetched, wk.Notes})
	}
	table(w, "WORKER\tPOOL\tMASTER\tLOCKED TO\tENABLED\tLAST FETCH\tNOTES", rows)
}

func showWorker(w io.Writer, wk store.Worker) { showWorkers(w, []store.Worker{wk}) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newWorkerCommand(e *env) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{Use: "worker", Short: "List, add, update, move, lock, enable and disable workers"}
	addAPIFlags(cmd, &f)
	var pool string
	list := &cobra.Command{
		Use: "list [--pool POOL]", Short: "List the workers (without passwords)", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, &f, e, "GET", "/api/workers"+poolQuery(pool), nil, showWorkers)
		},
	}
	list.Flags().StringVar(&pool, "pool", "", "only this pool's workers")

	var add struct{ pool, passwordFile, notes string }
	addCmd := &cobra.Command{
		Use:   "add NAME --pool POOL --password-file FILE",
		Short: "Add a worker",
		Long: `Add a worker to a pool. Its password is read from --password-file (its first
line; - for standard input), never from the command line, where other users
could see it. Its master is chosen at its first fetch.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(e, add.passwordFile)
			if err != nil {
				return err
			}
			body := map[string]any{"name": args[0], "pool": add.pool, "password": pw, "notes": add.notes}
			return call(cmd, &f, e, "POST", "/api/workers", body, showWorker)
		},
	}
	af := addCmd.Flags()
	af.StringVar(&add.pool, "pool", "", "the worker's pool")
	af.StringVar(&add.passwordFile, "password-file", "", "file whose first line is the worker's password (- : standard input)")
	af.StringVar(&add.notes, "notes", "", "free text shown in listings")
	addCmd.MarkFlagRequired("pool")
	addCmd.MarkFlagRequired("password-file")

	var movePool string
	move := &cobra.Command{
		Use:   "move NAME (MASTER | --pool POOL)",
		Short: "Give a worker another master, or another pool",
		Long: `Give the worker MASTER (it joins MASTER's pool) from its next fetch on, or,
with --pool, put it in POOL, where its next fetch gives it the least loaded
enabled master. Restart the worker for the change to take effect.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 && (len(args) != 1 || movePool == "") {
				return &usageError{errors.New("move takes NAME MASTER, or NAME --pool POOL")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]string{"pool": movePool}
			if len(args) == 2 {
				body = map[string]string{"master": args[1]}
			}
			return call(cmd, &f, e, "POST", "/api/workers/"+url.PathEscape(args[0])+"/move", body, showWorker)
		},
	}
	move.Flags().StringVar(&movePool, "pool", "", "move to this pool instead of to a master")

	var unlock bool
	lock := &cobra.Command{
		Use:   "lock NAME MASTER | lock --unlock NAME",
		Short: "Lock a worker to a master (it always gets that one), or unlock it",
		Args: func(cmd *cobra.Command, args []string) error {
			if unlock && len(args) != 1 || !unlock && len(args) != 2 {
				return &usageError{errors.New("lock takes NAME MASTER, or --unlock NAME")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/workers/" + url.PathEscape(args[0])
			if unlock {
				return call(cmd, &f, e, "POST", path+"/unlock", nil, showWorker)
			}
			return call(cmd, &f, e, "POST", path+"/lock", map[string]string{"master": args[1]}, showWorker)
		},
	}
	lock.Flags().BoolVar(&unlock, "unlock", false, "remove the lock")
	var wu struct{ passwordFile, notes, pool string }
	wupdate := &cobra.Command{
		Use:   "update NAME [--password-file FILE] [--notes TEXT] [--pool POOL]",
		Short: "Change a worker's password, notes or pool",
		Long: `Change a worker's password (read from --password-file, - for standard input),
its notes, or its pool (where its next start balances it). Give the worker
the new password too: it logs in with what the allocator hands out.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			fl := cmd.Flags()
			if fl.Changed("password-file") {
				pw, err := readPassword(e, wu.passwordFile)
				if err != nil {
					return err
				}
				body["password"] = pw
			}
			if fl.Changed("notes") {
				body["notes"] = wu.notes
			}
			if fl.Changed("pool") {
				body["pool"] = wu.pool
			}
			if len(body) == 0 {
				return &usageError{errors.New("update needs at least one of --password-file, --notes, --pool")}
			}
			return call(cmd, &f, e, "PATCH", "/api/workers/"+url.PathEscape(args[0]), body, showWorker)
		},
	}
	wf := wupdate.Flags()
	wf.StringVar(&wu.passwordFile, "password-file", "", "file whose first line is the new password (- : standard input)")
	wf.StringVar(&wu.notes, "notes", "", "new notes")
	wf.StringVar(&wu.pool, "pool", "", "new pool")
	cmd.AddCommand(list, addCmd, wupdate, move, lock)
	for _, action := range []string{"enable", "disable"} {
		cmd.AddCommand(&cobra.Command{
			Use: action + " NAME", Short: strings.ToUpper(action[:1]) + action[1:] + " a worker", Args: exactArgs(1, "NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return call(cmd, &f, e, "POST", "/api/workers/"+url.PathEscape(args[0])+"/"+action, nil, showWorker)
			},
		})
	}
	return cmd
}

// readPassword reads the first line of path ("-": standard input).
func readPassword(e *env, path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, 4096))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("the password file %s is empty", path)
	}
	return pw, nil
}
