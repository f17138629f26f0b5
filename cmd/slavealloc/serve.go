package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/slavealloc/server"
	"github.com/buildslave/buildslave/slavealloc/token"
)

func newServeCommand(e *env) *cobra.Command {
	var dbURL, listen, tokenFile, certFile, keyFile string
	var trustProxy bool
	var pwKeyFile string
	cmd := &cobra.Command{
		Use:   "serve -D URL --listen HOST:PORT --token-file FILE",
		Short: "Run the allocator's HTTP server",
		Long: `Serve GET /gettac/WORKER (the worker's buildbot.tac, or its buildslave.cfg
with ?format=cfg), the JSON API under /api/ and the web page at /.

GET /api/pools, /api/masters and /api/workers (without passwords) are open;
every change and every read that carries a password needs a token from
--token-file, sent as "Authorization: Bearer TOKEN"; SIGHUP rereads it. Each line of the file is
a token or its hash (sha256:HEX, see 'slavealloc token hash'), optionally
followed by its scope: admin (the default) or worker:NAME, a token that may
only fetch NAME's tac. --tls-cert and --tls-key serve HTTPS.

Pending schema migrations are applied at start. With --password-key-file
the workers' passwords are kept encrypted in the database.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (certFile == "") != (keyFile == "") {
				return &usageError{errors.New("--tls-cert and --tls-key go together")}
			}
			return serve(cmd.Context(), e, dbURL, listen, tokenFile, certFile, keyFile, pwKeyFile, trustProxy)
		},
	}
	addDBFlag(cmd, &dbURL)
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8010", "address to listen on")
	f.StringVar(&tokenFile, "token-file", "", "file of the accepted tokens (required)")
	f.StringVar(&certFile, "tls-cert", "", "PEM certificate chain: serve HTTPS")
	f.StringVar(&keyFile, "tls-key", "", "PEM private key of --tls-cert")
	f.BoolVar(&trustProxy, "trust-forwarded-for", false, "behind a reverse proxy: record the worker's address from X-Forwarded-For")
	addKeyFlag(cmd, &pwKeyFile)
	cmd.MarkFlagRequired("token-file")
	return cmd
}

func serve(ctx context.Context, e *env, dbURL, listen, tokenFile, certFile, keyFile, pwKeyFile string, trustProxy bool) error {
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	tokens, err := token.Load(tokenFile)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, dbURL, pwKeyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	from, to, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if from != to {
		log.Info("migrated the schema", "from", from, "to", to)
	}
	if pwKeyFile != "" {
		n, err := st.EncryptPasswords(ctx)
		if err != nil {
			return fmt.Errorf("encrypting the stored passwords: %w", err)
		}
		if n > 0 {
			log.Info("encrypted the passwords stored in clear", "workers", n)
		}
	} else {
		log.Warn("the workers' passwords are stored in clear: give --password-key-file to encrypt them")
	}
	var tlsConfig *tls.Config
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	api := server.New(st, tokens, log)
	api.TrustForwardedFor = trustProxy
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String()+"/", "schema", to)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// SIGHUP rereads the token file: tokens are rotated without dropping
	// a request. A file that no longer reads keeps the old tokens.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case err := <-errc:
			return err
		case <-hup:
			tokens, err := token.Load(tokenFile)
			if err != nil {
				log.Error("keeping the old tokens", "err", err)
				continue
			}
			api.SetTokens(tokens)
			log.Info("reread the token file", "file", tokenFile)
			continue
		case <-ctx.Done():
		}
		break
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func newTokenCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make tokens and their hashes",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "new FILE",
		Short: "Write a new random token to FILE (mode 0600) and print its hash line",
		Long: `Write a new random token to FILE, which must not exist (mode 0600). Give FILE
to clients (--token-file, --allocator-token-file); the server may use it as
is or, better, the printed sha256: line, which grants nothing if read.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := token.WriteNew(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, token.Hash(tok))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "hash FILE",
		Short: "Print the sha256: line of the token in FILE, for a server's token file",
		Args:  exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := token.ReadClient(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, token.Hash(tok))
			return nil
		},
	})
	return cmd
}
