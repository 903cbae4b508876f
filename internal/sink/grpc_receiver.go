package sink

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/sink/grpcpb"
)

// DefaultGRPCReceiverRemember is how many batch ids a [GRPCReceiver]
// remembers for deduplication unless told otherwise.
const DefaultGRPCReceiverRemember = 10000

// GRPCReceiverConfig configures a [GRPCReceiver].
type GRPCReceiverConfig struct {
	// Store stores a batch durably; the batch is acknowledged once it
	// returns nil. An error makes the Ack not ok, retryable unless the
	// error is Permanent. Calls are serialised. Required.
	Store func(ctx context.Context, b *grpcpb.Batch) error
	// Token, when set, is the bearer token every call must carry
	// ("authorization: Bearer <token>"); a call without it ends with
	// UNAUTHENTICATED.
	Token string
	// Remember is how many of the latest batch ids are kept to drop
	// duplicates; 0 means DefaultGRPCReceiverRemember.
	Remember int
	// Logger gets a debug line per batch; nil discards them.
	Logger *slog.Logger
}

// GRPCReceiver is the reference implementation of the Receiver service of
// proto/sluice/sink/v1/receiver.proto, which `sluice receive grpc` serves
// and tests of the gRPC sink use. It acknowledges each batch once Store
// has stored it, and drops a batch whose id is among the last Remember it
// stored (acknowledging it ok): a batch the sink sends again because an
// Ack was lost is stored once. The ids are kept in memory only, so a
// receiver that restarts forgets them, and a batch resent across the
// restart is stored twice.
type GRPCReceiver struct {
	grpcpb.UnimplementedReceiverServer
	cfg GRPCReceiverConfig
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]struct{}
	ring []string // the remembered ids, oldest at next once full
	next int
}

// NewGRPCReceiver returns a receiver; register it on a grpc.Server with
// grpcpb.RegisterReceiverServer.
func NewGRPCReceiver(cfg GRPCReceiverConfig) *GRPCReceiver {
	if cfg.Remember <= 0 {
		cfg.Remember = DefaultGRPCReceiverRemember
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &GRPCReceiver{cfg: cfg, log: log, seen: make(map[string]struct{})}
}

// Deliver checks the token, then stores and acknowledges batches until the
// sink ends the stream.
func (r *GRPCReceiver) Deliver(stream grpc.BidiStreamingServer[grpcpb.Batch, grpcpb.Ack]) error {
	ctx := stream.Context()
	if r.cfg.Token != "" && !r.authorized(ctx) {
		return status.Error(codes.Unauthenticated, "missing or wrong bearer token")
	}
	for {
		b, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(r.receive(ctx, b)); err != nil {
			return err
		}
	}
}

func (r *GRPCReceiver) authorized(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	want := []byte("Bearer " + r.cfg.Token)
	for _, v := range md.Get("authorization") {
		if subtle.ConstantTimeCompare([]byte(v), want) == 1 {
			return true
		}
	}
	return false
}

// receive stores one batch unless it is a duplicate, and says how it went.
func (r *GRPCReceiver) receive(ctx context.Context, b *grpcpb.Batch) *grpcpb.Ack {
	id := b.GetId()
	if id == "" {
		return &grpcpb.Ack{Error: "batch without an id"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.seen[id]; dup {
		r.log.Debug("grpc receiver: duplicate batch dropped", "id", id, "records", len(b.GetRecords()))
		return &grpcpb.Ack{Id: id, Ok: true}
	}
	if err := r.cfg.Store(ctx, b); err != nil {
		retryable := !IsPermanent(err)
		r.log.Warn("grpc receiver: batch not stored", "id", id, "err", err, "retryable", retryable)
		return &grpcpb.Ack{Id: id, Error: err.Error(), Retryable: retryable}
	}
	r.remember(id)
	r.log.Debug("grpc receiver: batch stored", "id", id, "records", len(b.GetRecords()), "format", b.GetFormat(), "content_type", b.GetContentType())
	return &grpcpb.Ack{Id: id, Ok: true}
}

// remember adds id, forgetting the oldest when full.
func (r *GRPCReceiver) remember(id string) {
	if len(r.ring) < r.cfg.Remember {
		r.ring = append(r.ring, id)
	} else {
		delete(r.seen, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.seen[id] = struct{}{}
}

// AppendRecords returns a GRPCReceiverConfig.Store that appends the values
// of each batch's records to f (opened for appending) with one write, and
// fsyncs it. After a failed write or fsync it cuts the file back to its
// size before the batch, so that the batch sent again does not follow a
// torn copy.
func AppendRecords(f *os.File) func(context.Context, *grpcpb.Batch) error {
	var buf []byte
	return func(_ context.Context, b *grpcpb.Batch) error {
		buf = buf[:0]
		for _, rec := range b.GetRecords() {
			buf = append(buf, rec.GetValue()...)
		}
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("stat %s: %w", f.Name(), err)
		}
		if _, err = f.Write(buf); err == nil {
			err = f.Sync()
		}
		if err != nil {
			if terr := f.Truncate(fi.Size()); terr != nil {
				return Permanent(fmt.Errorf("write %s: %w; cutting off the torn batch failed too: %w", f.Name(), err, terr))
			}
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
		if cap(buf) > maxFileBuffer {
			buf = nil
		}
		return nil
	}
}
