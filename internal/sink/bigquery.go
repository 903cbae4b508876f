package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func init() {
	RegisterType(Type{Name: "bigquery", Open: openBigQuery, Validate: validateBigQuery})
	RegisterSecrets("bigquery", "credentialsJSON")
}

// bqDefaultEndpoint is the BigQuery Storage API.
const bqDefaultEndpoint = "bigquerystorage.googleapis.com:443"

// bqMaxErrorRows bounds how many refused records an error names.
const bqMaxErrorRows = 5

var (
	// bqProject is a Google Cloud project id, possibly domain-scoped
	// ("example.com:my-project").
	bqProject = regexp.MustCompile(`^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	// bqDataset is a dataset id (at most 1,024 of these).
	bqDataset = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// bqTable is a table id: letters, marks, numbers, connectors, dashes
	// and spaces, at most 1,024 bytes.
	bqTable = regexp.MustCompile(`^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} ]+$`)
)

// bqConfig is the bigquery sink's settings, checked.
type bqConfig struct {
	project, dataset, table string
	endpoint                string // host:port
	host                    string // the TLS server name
	insecure                bool   // plaintext, no credentials
	key                     string // a service account key; "" for the worker's credentials
	timeout                 time.Duration
}

// tablePath is the table's resource name.
func (c bqConfig) tablePath() string {
	return "projects/" + c.project + "/datasets/" + c.dataset + "/tables/" + c.table
}

func parseBigQuery(spec Spec, env Env) (bqConfig, error) {
	s := NewSettings(spec)
	c := bqConfig{
		project:  s.String("project", true, ""),
		dataset:  s.String("dataset", true, ""),
		table:    s.String("table", true, ""),
		endpoint: s.String("endpoint", false, ""),
		key:      s.String("credentialsJSON", false, ""),
		insecure: s.Bool("insecure", false),
		timeout:  s.Duration("timeout", 30*time.Second),
	}
	if c.project != "" && !bqProject.MatchString(c.project) {
		s.Fail("project", fmt.Sprintf("%q is not a Google Cloud project id (6 to 30 lower-case letters, digits and hyphens, starting with a letter)", c.project))
	}
	if c.dataset != "" && (len(c.dataset) > 1024 || !bqDataset.MatchString(c.dataset)) {
		s.Fail("dataset", fmt.Sprintf("%q is not a BigQuery dataset id (letters, digits and underscores, at most 1,024)", c.dataset))
	}
	if c.table != "" && (len(c.table) > 1024 || !bqTable.MatchString(c.table)) {
		s.Fail("table", fmt.Sprintf("%q is not a BigQuery table id (letters, digits, underscores, dashes and spaces, at most 1,024 bytes)", c.table))
	}
	if v, ok := spec.Settings["endpoint"].(string); ok && v == "" {
		s.Fail("endpoint", "must not be empty (leave it out for BigQuery's own endpoint)")
	}
	if c.endpoint == "" {
		c.endpoint = bqDefaultEndpoint
	} else {
		h, port, err := net.SplitHostPort(c.endpoint)
		switch {
		case err != nil:
			s.Fail("endpoint", fmt.Sprintf("%q is not host:port", c.endpoint))
		case h == "":
			s.Fail("endpoint", "the host is missing")
		default:
			if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
				s.Fail("endpoint", fmt.Sprintf("%q is not a port number", port))
			}
			// An endpoint given as an IP is checked now; a name on every
			// connection, once resolved (Dialer).
			if ip, err := netip.ParseAddr(h); err == nil {
				if why := Forbidden(env, ip); why != "" {
					s.Fail("endpoint", fmt.Sprintf("%s is %s, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)", h, why))
				}
			}
		}
	}
	c.host, _, _ = net.SplitHostPort(c.endpoint)
	if c.insecure {
		if _, ok := spec.Settings["endpoint"]; !ok {
			s.Fail("insecure", "only with an endpoint (BigQuery itself takes TLS only)")
		}
		if c.key != "" {
			s.Fail("credentialsJSON", "not with insecure: the credentials would cross the network in clear text")
		}
	}
	if c.key != "" {
		if err := bqCheckKey(c.key); err != nil {
			s.Fail("credentialsJSON", err.Error())
		}
	}
	switch out := env.Output; {
	case out.Format == "":
		s.Fail("type", "the bigquery sink needs the query's result columns and the JSON output format, which are not known here")
	case !strings.EqualFold(out.Format, "json"):
		s.Fail("type", fmt.Sprintf("the bigquery sink takes the JSON output format (outputFormat JSON), not %s", strings.ToUpper(out.Format)))
	case bqMediaType(out.ContentType) != ndjsonType:
		s.Fail("type", fmt.Sprintf("the bigquery sink takes one JSON object per record (%s), not %s: leave the JSON format's Array option off", ndjsonType, out.ContentType))
	case len(out.Columns) == 0:
		s.Fail("type", "the query returns no columns")
	}
	return c, s.Err()
}

// ndjsonType is the only content type the sink takes.
const ndjsonType = "application/x-ndjson"

func bqMediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

func validateBigQuery(spec Spec, env Env) error {
	_, err := parseBigQuery(spec, env)
	return err
}

// openBigQuery connects and reads the table's schema (through the
// _default stream's metadata, which creates nothing), and maps the
// result columns onto it: a table that does not exist, or whose columns
// do not fit the query's, is a ConfigError of the table setting. The
// write stream is created at the first Write, so an Open and a Close (a
// dry run) leave nothing behind.
func openBigQuery(ctx context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parseBigQuery(spec, env)
	if err != nil {
		return nil, err
	}
	s, err := newBQSink(ctx, c, env)
	if err != nil {
		return nil, err
	}
	if err := s.loadSchema(ctx, env); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	s.log.Debug("bigquery sink opened", "columns", len(env.Output.Columns))
	return s, nil
}

// bqSink is the "bigquery" sink: it appends each batch's rows to a table
// through the BigQuery Storage Write API, as protocol buffer messages
// built from the result columns and the table's schema
// (bigquery_rows.go).
//
// Rows go to one COMMITTED write stream per sink, created at the first
// write (and again if BigQuery drops it), over one AppendRows connection
// kept open between batches. Every append names the stream offset it
// writes at, so a batch retried after a lost acknowledgement is not
// written twice: BigQuery answers ALREADY_EXISTS for rows already there,
// which the sink takes as success. Delivery is at-least-once all the same
// (see docs/sinks.md): a restarted task writes to a new stream, and the
// batches since the last commit of the job's offsets are written again.
//
// One batch in flight: Write returns once BigQuery acknowledged every row
// (committed, visible to queries). Safe for concurrent use (writes are
// serialised).
type bqSink struct {
	cfg  bqConfig
	log  *slog.Logger
	opts []grpc.DialOption
	// life ends at Close, and with it every call.
	life   context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	// refused is the permanent error of the last connection attempt that
	// the destination check refused, nil after one that was allowed.
	refused atomic.Pointer[error]

	mu      sync.Mutex // held by Write and Close
	conn    *grpc.ClientConn
	client  storagepb.BigQueryWriteClient
	rows    *bqRows
	stream  string // the write stream, "" until created
	next    int64  // the offset in stream the next batch starts at
	appends grpc.BidiStreamingClient[storagepb.AppendRowsRequest, storagepb.AppendRowsResponse]
	// appendsCancel ends the AppendRows connection.
	appendsCancel context.CancelFunc
	// appendsFirst: the next request is the connection's first, which
	// names the stream and carries the writer schema.
	appendsFirst bool
	// pending is the batch whose write failed, until it is written or
	// given up.
	pending *bqPending
	// buf and rowBuf hold the rows of the batch being written, reused.
	buf    []byte
	rowBuf [][]byte
}

var _ Sink = (*bqSink)(nil)

// bqPending is a batch being written: its rows, converted once, and how
// far writing them got.
type bqPending struct {
	id     string
	n      int      // records
	rows   [][]byte // serialized, one per record
	chunks []int    // the end of each request's rows
	stream string   // the write stream start is an offset of
	start  int64
	done   int // rows known written (a prefix)
	sent   int // rows sent at least once: ALREADY_EXISTS for them means written
}

func newBQSink(ctx context.Context, c bqConfig, env Env) (*bqSink, error) {
	s := &bqSink{cfg: c, log: env.logger().With("sink", "bigquery", "table", c.project+"."+c.dataset+"."+c.table)}
	d := Dialer(env, c.timeout)
	bo := backoff.DefaultConfig
	bo.MaxDelay = 5 * time.Second
	s.opts = []grpc.DialOption{
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
		grpc.WithUserAgent("sluice-bigquery-sink"),
	}
	if c.insecure {
		s.opts = append(s.opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		ts, err := bqTokenSource(ctx, c.key)
		if err != nil {
			return nil, err
		}
		s.opts = append(s.opts,
			grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{ServerName: c.host, MinVersion: tls.VersionTLS12})),
			grpc.WithPerRPCCredentials(bqPerRPC{ts: ts}))
	}
	if err := s.dial(); err != nil {
		return nil, &ConfigError{Type: "bigquery", Field: "endpoint", Message: err.Error()}
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// dial makes the client connection; it connects when first used.
// passthrough: the dialer resolves the name on every connection, and
// checks every address it connects to.
func (s *bqSink) dial() error {
	conn, err := grpc.NewClient("passthrough:///"+s.cfg.endpoint, s.opts...)
	if err != nil {
		return err
	}
	s.conn, s.client = conn, storagepb.NewBigQueryWriteClient(conn)
	return nil
}

// bqRouting adds the routing header BigQuery's front end expects.
func bqRouting(ctx context.Context, key, value string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-goog-request-params", key+"="+url.QueryEscape(value))
}

// loadSchema reads the table's schema and maps the result columns onto
// it.
func (s *bqSink) loadSchema(ctx context.Context, env Env) error {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	name := s.cfg.tablePath() + "/streams/_default"
	ws, err := s.client.GetWriteStream(bqRouting(cctx, "name", name), &storagepb.GetWriteStreamRequest{Name: name, View: storagepb.WriteStreamView_FULL})
	if err != nil {
		return s.callError(ctx, cctx, "read the table's schema", err)
	}
	rows, err := newBQRows(env.Output.Columns, ws.GetTableSchema())
	if err != nil {
		var errs []error
		for _, e := range bqUnjoin(err) {
			var se *bqSchemaError
			if errors.As(e, &se) {
				errs = append(errs, &ConfigError{Type: "bigquery", Field: "table", Message: se.msg})
			} else {
				errs = append(errs, e)
			}
		}
		return errors.Join(errs...)
	}
	s.rows = rows
	return nil
}

// bqUnjoin lists the errors joined in err.
func bqUnjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, bqUnjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// Write appends the batch's rows and returns once BigQuery acknowledged
// them all. A batch retried (the same ID) after a failure is written from
// where the failed attempt left off: rows BigQuery already has at their
// offsets are not written again.
func (s *bqSink) Write(ctx context.Context, b *Batch) error {
	if s.closed.Load() {
		return fmt.Errorf("bigquery sink: %w", ErrClosed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("bigquery sink: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Records) == 0 {
		return nil
	}
	if mt := bqMediaType(b.ContentType); mt != ndjsonType {
		return Permanent(fmt.Errorf("bigquery sink: records are %q, but the sink takes only the JSON format (%s, one object per record)", b.ContentType, ndjsonType))
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	// Close cuts a Write in flight off once Close's context ends.
	defer context.AfterFunc(s.life, cancel)()

	p := s.pending
	if p != nil && (p.id != b.ID || p.n != len(b.Records)) {
		// Another batch while the failed one's rows may be in the stream
		// in part: offsets would no longer tell what is there. Start a
		// new stream (the failed batch is the runtime's to retry).
		s.log.Warn("bigquery sink: a new batch before the failed one was written; starting a new write stream", "failed", p.id, "batch", b.ID)
		s.dropStream()
		p = nil
	}
	if p == nil {
		// The rows are kept until the batch is written (a retry sends
		// them again as they are); then the memory serves the next batch.
		buf, rows, err := s.rows.encode(b.Records, s.buf[:0], s.rowBuf[:0])
		if err != nil {
			return Permanent(fmt.Errorf("bigquery sink: batch %s: %w", b.ID, err))
		}
		s.buf, s.rowBuf = buf, rows
		p = &bqPending{id: b.ID, n: len(b.Records), rows: rows, chunks: bqChunks(rows)}
	}
	s.pending = p
	if s.stream == "" {
		if err := s.createStream(ctx, wctx); err != nil {
			return err
		}
	}
	if p.stream != s.stream {
		p.stream, p.start, p.done, p.sent = s.stream, s.next, 0, 0
	}
	if err := s.appendRows(ctx, wctx, b, p); err != nil {
		return err
	}
	s.next = p.start + int64(len(p.rows))
	s.pending = nil
	return nil
}

// bqChunks cuts rows into requests of at most bqMaxRequestBytes each
// (one row alone when it is larger; BigQuery will refuse it).
func bqChunks(rows [][]byte) []int {
	var ends []int
	size := 0
	for i, r := range rows {
		n := len(r) + 8 // the row's framing, generously
		if size > 0 && size+n > bqMaxRequestBytes {
			ends = append(ends, i)
			size = 0
		}
		size += n
	}
	return append(ends, len(rows))
}

// createStream creates the COMMITTED write stream the sink appends to.
func (s *bqSink) createStream(ctx, wctx context.Context) error {
	parent := s.cfg.tablePath()
	ws, err := s.client.CreateWriteStream(bqRouting(wctx, "parent", parent), &storagepb.CreateWriteStreamRequest{
		Parent:      parent,
		WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED},
	})
	if err != nil {
		return s.callError(ctx, wctx, "create a write stream", err)
	}
	if ws.GetName() == "" {
		return fmt.Errorf("bigquery sink: create a write stream on %s: BigQuery returned no stream name", parent)
	}
	s.stream, s.next = ws.GetName(), 0
	s.log.Debug("bigquery write stream created", "stream", s.stream)
	return nil
}

// appendRows sends the batch's requests one after the other, each at its
// offset, and waits for each acknowledgement.
func (s *bqSink) appendRows(ctx, wctx context.Context, b *Batch, p *bqPending) error {
	// A connection kept from an earlier batch may have been closed by
	// BigQuery while idle: if its first exchange fails, the sink
	// reconnects once at once (the offset makes sending again harmless).
	mayReconnect := s.appends != nil
	lo := 0
	for _, hi := range p.chunks {
		if hi <= p.done {
			lo = hi
			continue
		}
		req := &storagepb.AppendRowsRequest{
			Offset: wrapperspb.Int64(p.start + int64(lo)),
			Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: &storagepb.AppendRowsRequest_ProtoData{
				Rows: &storagepb.ProtoRows{SerializedRows: p.rows[lo:hi]},
			}},
		}
		// Rows sent before may be stored already: ALREADY_EXISTS then
		// means they are.
		resent := hi <= p.sent
		resp, err := s.send(ctx, wctx, req)
		p.sent = max(p.sent, hi)
		if err != nil && mayReconnect && wctx.Err() == nil && s.life.Err() == nil {
			s.log.Debug("bigquery AppendRows connection lost; reconnecting", "err", err)
			resent = true
			resp, err = s.send(ctx, wctx, req)
		}
		mayReconnect = false
		if err != nil {
			return s.callError(ctx, wctx, "append batch "+b.ID, err)
		}
		if st := resp.GetError(); st != nil {
			if codes.Code(st.GetCode()) == codes.AlreadyExists && resent {
				// Stored by an earlier attempt whose acknowledgement was
				// lost: the offset made the retry harmless.
				s.log.Debug("bigquery rows already stored", "batch", b.ID, "offset", req.GetOffset().GetValue())
				p.done, lo = hi, hi
				continue
			}
			return s.appendError(ctx, wctx, b, lo, resp)
		}
		if got := resp.GetAppendResult().GetOffset(); got != nil && got.GetValue() != req.GetOffset().GetValue() {
			s.dropStream()
			return fmt.Errorf("bigquery sink: append batch %s: BigQuery appended at offset %d, not %d; retrying on a new write stream", b.ID, got.GetValue(), req.GetOffset().GetValue())
		}
		p.done, lo = hi, hi
	}
	return nil
}

// send sends one request on the AppendRows connection (opening one if
// there is none) and receives its answer. A failure drops the connection.
func (s *bqSink) send(ctx, wctx context.Context, req *storagepb.AppendRowsRequest) (*storagepb.AppendRowsResponse, error) {
	if s.appends == nil {
		if err := s.connect(ctx, wctx); err != nil {
			return nil, err
		}
	}
	req.WriteStream, req.TraceId = "", ""
	if pr := req.GetProtoRows(); pr != nil {
		pr.WriterSchema = nil
	}
	if s.appendsFirst {
		// The first request of a connection names the stream and the
		// message the rows are.
		req.WriteStream, req.TraceId = s.stream, "sluice"
		req.GetProtoRows().WriterSchema = &storagepb.ProtoSchema{ProtoDescriptor: s.rows.desc}
	}
	// The end of wctx, or Close, cuts the connection: that unblocks Send
	// and Recv.
	stop := context.AfterFunc(wctx, s.appendsCancel)
	resp, err := s.exchange(req)
	if !stop() && err == nil {
		s.dropConn() // the timeout fired just as the answer came
	}
	if err != nil {
		s.dropConn()
		return nil, err
	}
	s.appendsFirst = false
	return resp, nil
}

// connect opens the AppendRows connection to the write stream.
func (s *bqSink) connect(ctx, wctx context.Context) error {
	if s.conn.GetState() == connectivity.TransientFailure {
		// The last attempt to connect failed. The job's retry policy
		// paces reconnections, not gRPC's backoff: start afresh.
		s.conn.Close()
		if err := s.dial(); err != nil {
			return fmt.Errorf("bigquery sink: %w", err)
		}
	}
	cctx, ccancel := context.WithCancel(s.life)
	stop := context.AfterFunc(wctx, ccancel)
	appends, err := s.client.AppendRows(bqRouting(cctx, "write_stream", s.stream))
	if !stop() || err != nil {
		ccancel()
		if err == nil {
			err = wctx.Err()
		}
		return s.callError(ctx, wctx, "open an AppendRows connection", err)
	}
	s.appends, s.appendsCancel, s.appendsFirst = appends, ccancel, true
	return nil
}

// exchange sends one request and receives its answer.
func (s *bqSink) exchange(req *storagepb.AppendRowsRequest) (*storagepb.AppendRowsResponse, error) {
	err := s.appends.Send(req)
	if errors.Is(err, io.EOF) {
		// The server ended the call: Recv has its status.
		_, err = s.appends.Recv()
		if err == nil || errors.Is(err, io.EOF) {
			err = errBQEnded
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	resp, err := s.appends.Recv()
	if errors.Is(err, io.EOF) {
		err = errBQEnded
	}
	return resp, err
}

var errBQEnded = errors.New("BigQuery ended the AppendRows connection without answering")

// appendError turns an append's error answer into the sink's error: rows
// BigQuery refuses (INVALID_ARGUMENT, with the records named), missing
// rights and a missing table are permanent; a stream BigQuery no longer
// takes (gone, finalized, or offsets that do not match what the sink
// wrote) is replaced by a new one at the next attempt; the rest is
// retried.
func (s *bqSink) appendError(ctx, wctx context.Context, b *Batch, lo int, resp *storagepb.AppendRowsResponse) error {
	st := status.FromProto(resp.GetError())
	what := "append batch " + b.ID
	code, se := st.Code(), bqStorageError(st)
	switch {
	case code == codes.AlreadyExists, code == codes.OutOfRange, bqStreamUnusable(se):
		// The stream is not what the sink believes it is: write the batch
		// to a new one (rows that did reach the old stream stay there).
		s.log.Warn("bigquery write stream unusable; the next attempt creates a new one", "stream", s.stream, "code", code.String(), "error", st.Message())
		s.dropStream()
		return fmt.Errorf("bigquery sink: %s: %s: %s (retrying on a new write stream)", what, code, st.Message())
	case code == codes.InvalidArgument || se == storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS:
		s.dropConn()
		msg := st.Message()
		if rerrs := resp.GetRowErrors(); len(rerrs) > 0 {
			var parts []string
			for i, re := range rerrs {
				if i == bqMaxErrorRows {
					parts = append(parts, fmt.Sprintf("and %d more", len(rerrs)-i))
					break
				}
				idx := lo + int(re.GetIndex())
				where := fmt.Sprintf("record %d", idx)
				if idx >= 0 && idx < len(b.Records) && b.Records[idx].Partition >= 0 {
					where = fmt.Sprintf("record at partition %d offset %d", b.Records[idx].Partition, b.Records[idx].Offset)
				}
				parts = append(parts, where+": "+re.GetMessage())
			}
			msg = strings.Join(parts, "; ")
		}
		return Permanent(fmt.Errorf("bigquery sink: %s: BigQuery refused the rows: %s", what, msg))
	}
	s.dropConn()
	return s.callError(ctx, wctx, what, st.Err())
}

// bqStreamUnusable reports whether a StorageError code says the write
// stream takes no more rows.
func bqStreamUnusable(se storagepb.StorageError_StorageErrorCode) bool {
	switch se {
	case storagepb.StorageError_STREAM_NOT_FOUND, storagepb.StorageError_STREAM_FINALIZED,
		storagepb.StorageError_INVALID_STREAM_STATE, storagepb.StorageError_STREAM_ALREADY_COMMITTED,
		storagepb.StorageError_INVALID_STREAM_TYPE:
		return true
	}
	return false
}

// bqStorageError is the StorageError code in a status's details, if any.
func bqStorageError(st *status.Status) storagepb.StorageError_StorageErrorCode {
	for _, d := range st.Details() {
		if se, ok := d.(*storagepb.StorageError); ok {
			return se.GetCode()
		}
	}
	return storagepb.StorageError_STORAGE_ERROR_CODE_UNSPECIFIED
}

// callError turns an error of a call into the sink's: the end of ctx as
// such; Close as ErrClosed; the timeout as such; refused credentials,
// rows and requests, a missing table, and a destination the checks
// forbid, as permanent (a missing table or refused credentials as
// ConfigErrors); the rest (BigQuery unavailable, the connection broken)
// as errors the job retries.
func (s *bqSink) callError(ctx, wctx context.Context, what string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("bigquery sink: %s: %w", what, ctx.Err())
	case s.life != nil && s.life.Err() != nil:
		return fmt.Errorf("bigquery sink: %s: %w", what, ErrClosed)
	case wctx.Err() != nil:
		return fmt.Errorf("bigquery sink: %s: no answer from %s within %v (timeout)", what, s.cfg.endpoint, s.cfg.timeout)
	}
	st, isStatus := status.FromError(err)
	if !isStatus {
		return fmt.Errorf("bigquery sink: %s: %w", what, err)
	}
	se := bqStorageError(st)
	switch code := st.Code(); {
	case code == codes.Unavailable:
		if p := s.refused.Load(); p != nil {
			return fmt.Errorf("bigquery sink: %s: %w", what, *p)
		}
	case code == codes.Unauthenticated:
		return &ConfigError{Type: "bigquery", Field: "credentialsJSON", Message: fmt.Sprintf("BigQuery refused the credentials (%s): %s", what, st.Message())}
	case code == codes.PermissionDenied:
		return &ConfigError{Type: "bigquery", Field: "table", Message: fmt.Sprintf("permission denied on %s (%s; the credentials need roles/bigquery.dataEditor on the table or its dataset): %s", s.cfg.tablePath(), what, st.Message())}
	case se == storagepb.StorageError_TABLE_NOT_FOUND || (code == codes.NotFound && se == storagepb.StorageError_STORAGE_ERROR_CODE_UNSPECIFIED && !strings.HasPrefix(what, "append")):
		return &ConfigError{Type: "bigquery", Field: "table", Message: fmt.Sprintf("table %s does not exist (create it first): %s", s.cfg.tablePath(), st.Message())}
	case code == codes.NotFound, code == codes.FailedPrecondition, bqStreamUnusable(se):
		// The write stream is gone: the next attempt makes another.
		s.dropStream()
	case code == codes.InvalidArgument:
		return Permanent(fmt.Errorf("bigquery sink: %s: BigQuery refused it: %s", what, st.Message()))
	case code == codes.Unimplemented:
		return Permanent(fmt.Errorf("bigquery sink: %s: %s does not serve the BigQuery Storage Write API: %s", what, s.cfg.endpoint, st.Message()))
	}
	return fmt.Errorf("bigquery sink: %s: %s: %s", what, st.Code(), st.Message())
}

// dropConn abandons the AppendRows connection; the next append opens
// another (to the same stream).
func (s *bqSink) dropConn() {
	if s.appendsCancel != nil {
		s.appendsCancel()
	}
	s.appends, s.appendsCancel = nil, nil
}

// dropStream abandons the write stream; the next write creates another.
func (s *bqSink) dropStream() {
	s.dropConn()
	s.stream, s.next = "", 0
	s.pending = nil
}

// Close ends the AppendRows connection (a Write in flight may finish
// first, until ctx ends), finalizes the write stream, and closes the
// connection.
func (s *bqSink) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	stop := context.AfterFunc(ctx, s.cancel)
	s.mu.Lock()
	defer s.mu.Unlock()
	stop()
	if s.appends != nil && s.life.Err() == nil {
		// End the call cleanly and wait a little for the server to end it.
		if s.appends.CloseSend() == nil {
			t := time.AfterFunc(time.Second, s.appendsCancel)
			_, _ = s.appends.Recv()
			t.Stop()
		}
	}
	s.dropConn()
	if s.stream != "" && s.life.Err() == nil {
		// A finalized stream takes no more rows; BigQuery would
		// otherwise keep it open until it expires.
		fctx, cancel := context.WithTimeout(s.life, 5*time.Second)
		stop := context.AfterFunc(ctx, cancel)
		_, err := s.client.FinalizeWriteStream(bqRouting(fctx, "name", s.stream), &storagepb.FinalizeWriteStreamRequest{Name: s.stream})
		stop()
		cancel()
		if err != nil {
			s.log.Debug("bigquery write stream not finalized", "stream", s.stream, "err", err)
		}
	}
	s.cancel()
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("bigquery sink: close: %w", err)
	}
	s.log.Debug("bigquery sink closed")
	return nil
}
