package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/metrics"
	"github.com/buildslave/buildslave/statusfile"
)

// startObservers starts what watches the running worker: the status file
// and the start-up pages' release always, the HTTP endpoint when
// metrics_addr is set. stop ends both, leaving the status file with the
// run's last state.
func startObservers(cfg *config.Config, version string, logger *slog.Logger) (obs agent.Observer, stop func(), err error) {
	rec, err := statusfile.NewRecorder(cfg.Basedir, statusfile.Identity{
		PID:      os.Getpid(),
		Version:  version,
		Name:     cfg.Name,
		Basedir:  cfg.Basedir,
		Protocol: cfg.Protocol,
		Masters:  configuredMasters(cfg),
	}, logger)
	if err != nil {
		return nil, nil, err
	}
	pages := newStartPagesReleaser(logger)
	if cfg.MetricsAddr == "" {
		return agent.Observers(rec, pages), rec.Close, nil
	}
	addr, err := cfg.MetricsListenAddr()
	if err != nil {
		rec.Close()
		return nil, nil, err
	}
	m := metrics.New(cfg.Basedir, version, cfg.Protocol)
	srv, err := m.Listen(addr, logger)
	if err != nil {
		rec.Close()
		return nil, nil, fmt.Errorf("%w (metrics_addr in %s)", err, config.FileName)
	}
	logger.Info("serving /healthz and /metrics", "addr", "http://"+srv.Addr().String())
	return agent.Observers(rec, pages, m), func() {
		srv.Close()
		rec.Close()
	}, nil
}

// configuredMasters names the masters in the order they are tried.
func configuredMasters(cfg *config.Config) []string {
	first := cfg.MasterAddr()
	if cfg.ConnectionString != "" {
		first = cfg.ConnectionString
	}
	return append([]string{first}, cfg.FailoverMasters...)
}
