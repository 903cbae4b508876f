// Package devbroker runs the embedded Kafka-protocol broker of `sluice dev`.
//
// It is franz-go's kfake, a real implementation of the Kafka wire protocol
// (topics, groups, transactions, CreatePartitions) in process, persisted to a
// directory so a restart keeps topics and records. It is the newcomer's
// default and a fast unit-test broker; it is not a production broker.
package devbroker

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config says where the broker listens and keeps its data.
type Config struct {
	// Listen is host:port. The host must be a concrete address (clients are
	// told to connect to it), e.g. 127.0.0.1:9092.
	Listen string
	// DataDir holds the broker's topics, records and group offsets.
	// Empty means in memory only.
	DataDir string
}

// Broker is a running embedded broker. Its methods are safe for concurrent use.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Start starts the broker and returns once it accepts connections.
func Start(cfg Config) (*Broker, error) {
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("kafka listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("kafka listen address %q: invalid port", cfg.Listen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// The broker advertises the address it listens on; a wildcard
		// address would send clients to 0.0.0.0.
		return nil, fmt.Errorf("kafka listen address %q: give a concrete host such as 127.0.0.1, not a wildcard", cfg.Listen)
	}
	listen := func(network, _ string) (net.Listener, error) {
		return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.ListenFn(listen)}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("kafka data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka on %s: %w", cfg.Listen, err)
	}
	return &Broker{cluster: c, addr: c.ListenAddrs()[0]}, nil
}

// Addr is the bootstrap address clients use.
func (b *Broker) Addr() string { return b.addr }

// Run blocks until ctx is done, then closes the broker, saving its state.
func (b *Broker) Run(ctx context.Context) error {
	<-ctx.Done()
	b.Close()
	return nil
}

// Close stops the broker and flushes its data to disk. It is idempotent.
func (b *Broker) Close() { b.cluster.Close() }
