package main

import (
	"context"
	"errors"
	"fmt"
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
