package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/sluicehq/sluice/internal/sink"
	"github.com/sluicehq/sluice/internal/sink/grpcpb"
)

// receiveGRPCMaxMessage is the largest batch `sluice receive grpc` takes;
// Sluice's batches are 1 MiB unless configured larger.
const receiveGRPCMaxMessage = 64 << 20

// receiveStopGrace is how long Ctrl-C waits for streams to end before
// cutting them.
const receiveStopGrace = 2 * time.Second

func newReceiveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "receive",
		Short: "Run a reference receiver for a network sink, for testing",
		Long: `Run a reference receiver that a subscription's network sink delivers to: for
testing a subscription end to end, and as an example to copy when writing your
own receiver.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newReceiveGRPCCmd())
	// --listen, --out and --token are too generic for SLUICE_LISTEN and
	// the like; the token has its own variable.
	noEnvExcept(cmd)
	return cmd
}

func newReceiveGRPCCmd() *cobra.Command {
	var (
		listen, out       string
		certFile, keyFile string
		clientCA, token   string
		remember          int
	)
	cmd := &cobra.Command{
		Use:   "grpc --out FILE",
		Short: "Receive batches from a grpc sink and append them to a file",
		Long: `Serve the Receiver service of proto/sluice/sink/v1/receiver.proto: take the
batches of subscriptions whose sink is of type grpc, append the records of each
batch to --out (the values one after another, as the file sink writes them:
one line per row for JSON), fsync the file, and acknowledge the batch.

A batch whose id is among the last --remember batches stored is acknowledged
without being stored again, so a batch the sink resends because an
acknowledgement was lost lands once. The ids are kept in memory only: after a
restart the receiver forgets them, and a batch resent across the restart is
stored twice (the sink delivers at least once).

With --tls-cert and --tls-key the receiver serves TLS; with --client-ca it also
requires a client certificate signed by that CA (the sink's clientCertPEM).
With --token (or SLUICE_RECEIVE_TOKEN, which keeps it out of the process
list), every call must carry "authorization: Bearer TOKEN" (the sink's
authToken), or it ends with UNAUTHENTICATED; a token needs TLS.

It prints the address it listens on, logs one line per batch at debug level
(--log-level debug), and stops on Ctrl-C: streams get 2s to end, then are cut.
docs/sinks.md (grpc) describes the protocol.`,
		Example: `  sluice receive grpc --out /tmp/results.ndjson
  sluice receive grpc --listen 0.0.0.0:7443 --out results.ndjson \
      --tls-cert server.pem --tls-key server-key.pem --token "$TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required: the file to append the records to")
			}
			if token == "" {
				token = os.Getenv("SLUICE_RECEIVE_TOKEN")
			}
			if (certFile == "") != (keyFile == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			if certFile == "" && clientCA != "" {
				return errors.New("--client-ca needs --tls-cert and --tls-key")
			}
			if certFile == "" && token != "" {
				return errors.New("--token needs --tls-cert and --tls-key: a bearer token must not cross the network in clear text")
			}
			if remember < 1 {
				return fmt.Errorf("--remember %d: must be at least 1", remember)
			}
			opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(receiveGRPCMaxMessage), grpc.WaitForHandlers(true)}
			mode := "plaintext"
			if certFile != "" {
				cfg, err := receiveTLS(certFile, keyFile, clientCA)
				if err != nil {
					return err
				}
				opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
				mode = "TLS"
				if clientCA != "" {
					mode = "TLS with client certificates"
				}
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			defer f.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen: %w", err)
			}
			srv := grpc.NewServer(opts...)
			grpcpb.RegisterReceiverServer(srv, sink.NewGRPCReceiver(sink.GRPCReceiverConfig{
				Store: sink.AppendRecords(f), Token: token, Remember: remember, Logger: slog.Default(),
			}))
			auth := ""
			if token != "" {
				auth = ", token required"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sluice receive grpc: listening on %s (%s%s), appending to %s\n", ln.Addr(), mode, auth, out)

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			select {
			case err := <-served:
				return fmt.Errorf("serve: %w", err)
			case <-ctx.Done():
			}
			// Let streams end (a sink closing), then cut the rest: sinks keep
			// their stream open, and resend whatever was not acknowledged.
			stopped := make(chan struct{})
			go func() { srv.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(receiveStopGrace):
				srv.Stop()
				<-stopped
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "sluice receive grpc: stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:7443", "address to listen on, host:port")
	f.StringVar(&out, "out", "", "file to append the records to (created if absent)")
	f.StringVar(&certFile, "tls-cert", "", "serve TLS with this certificate (PEM file, chain included)")
	f.StringVar(&keyFile, "tls-key", "", "the private key of --tls-cert (PEM file)")
	f.StringVar(&clientCA, "client-ca", "", "require client certificates signed by these CAs (PEM file)")
	f.StringVar(&token, "token", "", "require this bearer token (default $SLUICE_RECEIVE_TOKEN)")
	f.IntVar(&remember, "remember", sink.DefaultGRPCReceiverRemember, "how many of the latest batch ids to remember to drop duplicates")
	return cmd
}

// receiveTLS is the receiver's TLS configuration.
func receiveTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCA != "" {
		pemBytes, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("--client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("--client-ca: %s holds no PEM certificate", clientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
