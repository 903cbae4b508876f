package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
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
