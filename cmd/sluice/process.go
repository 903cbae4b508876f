package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/subscription"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// stopGrace is how long shutdown may take after SIGINT/SIGTERM before the
// process exits anyway; a second signal exits at once.
const stopGrace = 10 * time.Second

// signalContext is cancelled by the first SIGINT or SIGTERM. After that a
// second signal, or stopGrace passing, ends the process with status 1.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			slog.Info("shutting down", "signal", s.String())
			cancel()
		case <-ctx.Done():
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(os.Stderr, "second signal: exiting immediately")
		case <-time.After(stopGrace):
			fmt.Fprintln(os.Stderr, "shutdown took longer than", stopGrace, "- exiting")
		}
		os.Exit(1)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// loopFlags pace the control loops of a server.
type loopFlags struct {
	reconcile time.Duration
	probe     time.Duration
}

func (l *loopFlags) add(f *pflag.FlagSet) {
	f.DurationVar(&l.reconcile, "reconcile-interval", time.Minute, "how often the catalog compares its records with every Kafka cluster and settles pending operations")
	f.DurationVar(&l.probe, "probe-interval", 15*time.Second, "how often each Kafka cluster's health and use are probed")
}

func (l *loopFlags) validate() error {
	if l.reconcile < time.Second || l.probe < time.Second {
		return errors.New("--reconcile-interval and --probe-interval must be at least 1s")
	}
	return nil
}

// subscriptionFlags are the limits and sink rules of the subscription
// service (server) and of the jobs (worker).
type subscriptionFlags struct {
	maxSQLBytes  int
	maxPerApp    int
	allowPrivate bool
	fileRoot     string
}

func (s *subscriptionFlags) addLimits(f *pflag.FlagSet) {
	f.IntVar(&s.maxSQLBytes, "max-sql-bytes", subscription.DefaultMaxSQLBytes, "longest query a subscription may have, in bytes")
	f.IntVar(&s.maxPerApp, "max-subscriptions-per-application", subscription.DefaultMaxPerApplication, "most subscriptions one application may have")
}

func (s *subscriptionFlags) addSinks(f *pflag.FlagSet) {
	f.BoolVar(&s.allowPrivate, "allow-private-sinks", false, "let sinks reach loopback, link-local and private addresses (refused by default)")
	f.StringVar(&s.fileRoot, "sink-file-root", "", "confine file sinks to this directory (default: anywhere the process may write)")
}

func (s *subscriptionFlags) validate() error {
	if s.maxSQLBytes < 1 || s.maxPerApp < 1 {
		return errors.New("--max-sql-bytes and --max-subscriptions-per-application must be at least 1")
	}
	return nil
}

func (s *subscriptionFlags) sinkEnv() sink.Env {
	return sink.Env{AllowPrivate: s.allowPrivate, FileRoot: s.fileRoot}
}
