package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/internal/sink/grpcpb"
)

func init() {
	RegisterType(Type{Name: "grpc", Open: openGRPC, Validate: validateGRPC, Probe: probeGRPC})
	RegisterSecrets("grpc", "authToken", "clientKeyPEM")
}

// grpcMaxAckError bounds how much of a receiver's error message (Ack.error)
// goes into the sink's error.
const grpcMaxAckError = 1024

// grpcReuseRecords bounds how many Record messages a gRPC sink keeps for
// reuse between batches.
const grpcReuseRecords = 4096

// grpcConfig is the gRPC sink's settings, checked.
type grpcConfig struct {
	address string
	tls     *tls.Config // nil: plaintext
	md      metadata.MD // the metadata of every call, the token included
	timeout time.Duration
	schema  string
}

// parseGRPC checks the settings. It connects nowhere.
func parseGRPC(spec Spec, env Env) (grpcConfig, error) {
	s := NewSettings(spec)
	c := grpcConfig{
		address: s.String("address", true, ""),
		timeout: s.Duration("timeout", 30*time.Second),
		schema:  s.String("schema", false, ""),
		md:      metadata.MD{},
	}
	useTLS := s.Bool("tls", true)
	var host string
	if c.address != "" {
		h, port, err := net.SplitHostPort(c.address)
		switch {
		case err != nil:
			s.Fail("address", fmt.Sprintf("%q is not host:port", c.address))
		case h == "":
			s.Fail("address", "the host is missing")
		default:
			host = h
			if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
				s.Fail("address", fmt.Sprintf("%q is not a port number", port))
			}
			// An address given as an IP is checked now; a name is checked
			// on every connection, once resolved (Dialer).
			if ip, err := netip.ParseAddr(h); err == nil {
				if why := Forbidden(env, ip); why != "" {
					s.Fail("address", fmt.Sprintf("%s is %s, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)", h, why))
				}
			}
		}
	}

	var ca, certPEM, keyPEM string
	for _, f := range []struct {
		name string
		to   *string
	}{{"caPEM", &ca}, {"clientCertPEM", &certPEM}, {"clientKeyPEM", &keyPEM}} {
		*f.to = s.String(f.name, false, "")
		if *f.to != "" && !useTLS {
			s.Fail(f.name, "only with tls true")
		}
	}
	if useTLS {
		c.tls = s.TLS(host, ca, certPEM, keyPEM)
	}

	if v, ok := s.get("metadata"); ok {
		grpcMetadata(s, v, c.md)
	}
	if token := s.String("authToken", false, ""); token != "" {
		switch {
		case !useTLS:
			s.Fail("authToken", "only with tls true: the token would cross the network in clear text")
		case !grpcPrintable(token):
			s.Fail("authToken", "must be printable ASCII")
		default:
			c.md.Set("authorization", "Bearer "+token)
		}
	}
	return c, s.Err()
}

// grpcMetadata reads the metadata setting, an object of keys to string
// values, into md.
func grpcMetadata(s *Settings, v any, md metadata.MD) {
	m, ok := v.(map[string]any)
	if !ok {
		if ms, isMS := v.(map[string]string); isMS {
			m = make(map[string]any, len(ms))
			for k, v := range ms {
				m[k] = v
			}
		} else {
			s.Fail("metadata", "must be an object of names to strings")
			return
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		key := strings.ToLower(k)
		val, isStr := m[k].(string)
		switch {
		case key == "" || strings.Trim(key, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "":
			s.Fail("metadata", fmt.Sprintf("%q is not a metadata name (letters, digits, '-', '_' and '.')", k))
		case strings.HasPrefix(key, "grpc-") || slices.Contains([]string{"content-type", "te", "user-agent", "host"}, key):
			s.Fail("metadata", fmt.Sprintf("%q is reserved by gRPC", k))
		case key == "authorization":
			s.Fail("metadata", `"authorization" is set by authToken`)
		case !isStr:
			s.Fail("metadata", fmt.Sprintf("the value of %q must be a string", k))
		case !strings.HasSuffix(key, "-bin") && !grpcPrintable(val):
			s.Fail("metadata", fmt.Sprintf("the value of %q must be printable ASCII (or the name end in -bin)", k))
		default:
			md.Append(key, val)
		}
	}
}

// grpcPrintable reports whether v is printable ASCII, spaces included.
func grpcPrintable(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

func validateGRPC(spec Spec, env Env) error {
	_, err := parseGRPC(spec, env)
	return err
}

// openGRPC prepares the connection; it connects in the background and
// does not wait, so a receiver that is down does not fail the open (Write
// reports it, and is retried).
func openGRPC(_ context.Context, spec Spec, env Env) (Sink, error) {
	s, err := newGRPCSink(spec, env)
	if err != nil {
		return nil, err
	}
	s.conn.Connect()
	s.log.Debug("grpc sink opened", "tls", s.cfg.tls != nil)
	return s, nil
}

// probeGRPC checks that the receiver accepts a Deliver call with the
// sink's credentials, without sending a batch: it opens the stream, ends
// it at once and expects the receiver to end the call without an error.
func probeGRPC(ctx context.Context, spec Spec, env Env) error {
	s, err := newGRPCSink(spec, env)
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	pctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	stream, err := s.client.Deliver(metadata.NewOutgoingContext(pctx, s.cfg.md))
	if err == nil {
		if err = stream.CloseSend(); err == nil {
			_, err = stream.Recv()
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return fmt.Errorf("grpc sink: receiver %s acknowledged a batch it was never sent", s.cfg.address)
	}
	return s.deliverError(ctx, pctx, "", err)
}

func newGRPCSink(spec Spec, env Env) (*grpcSink, error) {
	c, err := parseGRPC(spec, env)
	if err != nil {
		return nil, err
	}
	s := &grpcSink{cfg: c, log: env.logger().With("sink", "grpc", "address", c.address)}
	d := Dialer(env, c.timeout)
	creds := insecure.NewCredentials()
	if c.tls != nil {
		creds = credentials.NewTLS(c.tls)
	}
	bo := backoff.DefaultConfig
	bo.MaxDelay = 5 * time.Second
	s.opts = []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil && IsPermanent(err) {
				s.refused.Store(&err)
			} else if err == nil {
				s.refused.Store(nil)
			}
			return conn, err
		}),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: c.timeout}),
		grpc.WithUserAgent("sluice-grpc-sink"),
	}
	if err := s.dial(); err != nil {
		return nil, &ConfigError{Type: spec.Type, Field: "address", Message: err.Error()}
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// dial makes the client connection; it connects when first used.
// passthrough: the dialer resolves the name on every connection, and
// checks every address it connects to.
func (s *grpcSink) dial() error {
	conn, err := grpc.NewClient("passthrough:///"+s.cfg.address, s.opts...)
	if err != nil {
		return err
	}
	s.conn, s.client = conn, grpcpb.NewReceiverClient(conn)
	return nil
}

// grpcSink is the "grpc" sink: it streams batches to a receiver that
// implements sluice.sink.v1.Receiver (proto/sluice/sink/v1/receiver.proto)
// over one Deliver stream, opened when first needed and again after an
// error, and waits for the receiver's Ack of each batch before Write
// returns: one batch in flight, so a slow receiver slows the job down
// (backpressure) rather than letting batches queue in memory.
// At-least-once: a batch whose Ack is lost is sent again, with the same
// id, which the receiver deduplicates by.
//
// Safe for concurrent use (writes are serialised).
type grpcSink struct {
	cfg  grpcConfig
	log  *slog.Logger
	opts []grpc.DialOption
	// life ends at Close, and with it every stream.
	life   context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	// refused is the permanent error of the last connection attempt that
	// the destination check refused, nil after one that was allowed.
	refused atomic.Pointer[error]

	mu           sync.Mutex // held by Write and Close
	conn         *grpc.ClientConn
	client       grpcpb.ReceiverClient
	stream       grpc.BidiStreamingClient[grpcpb.Batch, grpcpb.Ack]
	streamCancel context.CancelFunc
	msg          grpcpb.Batch
	recs         []*grpcpb.Record // reused between batches
}

var _ Sink = (*grpcSink)(nil)

// Write sends the batch on the stream (opening one if there is none) and
// waits for its Ack, for at most the timeout setting. An Ack that is ok is
// success; one that is not is a Permanent error unless the receiver says
// it is retryable. A broken stream, a missing Ack and an Ack for another
// batch drop the stream: the next Write opens a new one.
func (s *grpcSink) Write(ctx context.Context, b *Batch) error {
	if s.closed.Load() {
		return fmt.Errorf("grpc sink: %w", ErrClosed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("grpc sink: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Records) == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	// Close cuts a Write in flight off once Close's context ends.
	defer context.AfterFunc(s.life, cancel)()

	if s.stream == nil {
		if s.conn.GetState() == connectivity.TransientFailure {
			// The last attempt to connect failed. The job's retry policy
			// paces reconnections, not gRPC's backoff: start afresh, so
			// that the stream waits for a new attempt rather than fail on
			// the last one.
			s.conn.Close()
			if err := s.dial(); err != nil {
				return fmt.Errorf("grpc sink: %w", err)
			}
		}
		sctx, scancel := context.WithCancel(s.life)
		stop := context.AfterFunc(wctx, scancel)
		stream, err := s.client.Deliver(metadata.NewOutgoingContext(sctx, s.cfg.md))
		if !stop() || err != nil {
			scancel()
			if err == nil {
				err = wctx.Err()
			}
			return s.deliverError(ctx, wctx, b.ID, err)
		}
		s.stream, s.streamCancel = stream, scancel
		s.log.Debug("grpc stream opened")
	}
	// The end of ctx, or the timeout, cuts the stream: that unblocks Send
	// and Recv.
	stop := context.AfterFunc(wctx, s.streamCancel)
	ack, err := s.exchange(b)
	if !stop() && err == nil {
		// The timeout fired just as the Ack came: the stream is gone.
		s.dropStream()
	}
	if err != nil {
		s.dropStream()
		return s.deliverError(ctx, wctx, b.ID, err)
	}
	switch {
	case ack.GetId() != b.ID:
		s.dropStream()
		return Permanent(fmt.Errorf("grpc sink: receiver %s acknowledged batch %q when sent batch %q: it breaks the protocol (one Ack per Batch, in order)", s.cfg.address, ack.GetId(), b.ID))
	case ack.GetOk():
		return nil
	case !ack.GetRetryable():
		return Permanent(fmt.Errorf("grpc sink: receiver %s refused batch %s: %s", s.cfg.address, b.ID, ackError(ack)))
	}
	return fmt.Errorf("grpc sink: receiver %s could not store batch %s (retryable): %s", s.cfg.address, b.ID, ackError(ack))
}

// exchange sends b and receives the answer.
func (s *grpcSink) exchange(b *Batch) (*grpcpb.Ack, error) {
	s.msg.Id, s.msg.ContentType = b.ID, b.ContentType
	s.msg.Format = grpcFormatOf(b.ContentType)
	s.msg.Schema = ""
	if s.msg.Format == "AVRO" {
		s.msg.Schema = b.Schema
		if s.msg.Schema == "" {
			s.msg.Schema = s.cfg.schema
		}
	}
	for len(s.recs) < len(b.Records) {
		s.recs = append(s.recs, &grpcpb.Record{})
	}
	s.msg.Records = s.recs[:len(b.Records)]
	for i := range b.Records {
		r := s.msg.Records[i]
		r.Value, r.Partition, r.Offset = b.Records[i].Value, b.Records[i].Partition, b.Records[i].Offset
	}
	defer func() {
		// Keep nothing of the runtime's memory past Write.
		for _, r := range s.msg.Records {
			r.Value = nil
		}
		s.msg.Records = nil
		if len(s.recs) > grpcReuseRecords {
			s.recs = s.recs[:grpcReuseRecords:grpcReuseRecords]
		}
	}()
	// Send encodes the message before it returns.
	err := s.stream.Send(&s.msg)
	if errors.Is(err, io.EOF) {
		// The receiver ended the call: Recv has its status.
		_, err = s.stream.Recv()
		if err == nil || errors.Is(err, io.EOF) {
			err = errGRPCReceiverEnded
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	ack, err := s.stream.Recv()
	if errors.Is(err, io.EOF) {
		err = errGRPCReceiverEnded
	}
	return ack, err
}

var errGRPCReceiverEnded = errors.New("the receiver ended the stream without acknowledging the batch")

// ackError is the receiver's reason, bounded.
func ackError(a *grpcpb.Ack) string {
	msg := a.GetError()
	if msg == "" {
		return "no reason given"
	}
	if len(msg) > grpcMaxAckError {
		msg = grpcTruncate([]byte(msg), grpcMaxAckError) + "…"
	}
	return msg
}

// grpcTruncate returns b cut to at most n bytes at a character boundary.
func grpcTruncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && b[n]&0xc0 == 0x80 {
		n--
	}
	return string(b[:n])
}

// deliverError turns an error of a Deliver call into the sink's: the end
// of ctx as such; the timeout as such; refused credentials, an unknown
// service and refused data, and a destination the checks forbid, as
// permanent; the rest (the receiver down, the stream broken) as errors the
// job retries.
func (s *grpcSink) deliverError(ctx, wctx context.Context, id string, err error) error {
	what := "deliver batch " + id
	if id == "" {
		what = "probe"
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("grpc sink: %s to %s: %w", what, s.cfg.address, ctx.Err())
	case s.life.Err() != nil:
		return fmt.Errorf("grpc sink: %s: %w", what, ErrClosed)
	case wctx.Err() != nil:
		return fmt.Errorf("grpc sink: %s to %s: no acknowledgement within %v (timeout)", what, s.cfg.address, s.cfg.timeout)
	}
	st, isStatus := status.FromError(err)
	if !isStatus {
		return fmt.Errorf("grpc sink: %s to %s: %w", what, s.cfg.address, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		if p := s.refused.Load(); p != nil {
			return fmt.Errorf("grpc sink: %s: %w", what, *p)
		}
	case codes.Unauthenticated, codes.PermissionDenied:
		return Permanent(fmt.Errorf("grpc sink: %s: receiver %s refused the credentials: %s: %s", what, s.cfg.address, st.Code(), st.Message()))
	case codes.Unimplemented:
		return Permanent(fmt.Errorf("grpc sink: %s: %s does not implement sluice.sink.v1.Receiver/Deliver: %s", what, s.cfg.address, st.Message()))
	case codes.InvalidArgument:
		return Permanent(fmt.Errorf("grpc sink: %s: receiver %s refused it: %s", what, s.cfg.address, st.Message()))
	}
	return fmt.Errorf("grpc sink: %s to %s: %s: %s", what, s.cfg.address, st.Code(), st.Message())
}

// dropStream abandons the stream; the next Write opens another.
func (s *grpcSink) dropStream() {
	if s.streamCancel != nil {
		s.streamCancel()
	}
	s.stream, s.streamCancel = nil, nil
}

// grpcFormatOf names the output format that a content type is the encoding
// of, "" if none.
func grpcFormatOf(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "application/x-ndjson", "application/json", "application/jsonl", "application/json-seq":
		return "JSON"
	case "text/csv":
		return "CSV"
	case "avro/binary", "application/avro", "application/vnd.apache.avro+binary":
		return "AVRO"
	}
	return ""
}

// Close ends the stream (a Write in flight may finish first, until ctx
// ends) and closes the connection.
func (s *grpcSink) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	stop := context.AfterFunc(ctx, s.cancel)
	s.mu.Lock()
	defer s.mu.Unlock()
	stop()
	if s.stream != nil && s.life.Err() == nil {
		// End the call cleanly: the receiver sees the end of the stream
		// and ends the call; wait a little for that.
		if s.stream.CloseSend() == nil {
			t := time.AfterFunc(time.Second, s.streamCancel)
			_, _ = s.stream.Recv()
			t.Stop()
		}
	}
	s.dropStream()
	s.cancel()
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("grpc sink: close: %w", err)
	}
	s.log.Debug("grpc sink closed")
	return nil
}
