package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// bqFake is an in-process BigQuery Storage Write API: tables with
// schemas, COMMITTED and _default streams with offsets, and the checks
// the real service makes that the sink's correctness rests on. Appended
// rows are decoded with the writer schema of their connection (the
// ProtoSchema of its first request) and stored as the typed values
// BigQuery would keep, so tests assert what a query of the table would
// return:
//
//	BOOL bool, INT64 int64, FLOAT64 float64, STRING/GEOGRAPHY string,
//	BYTES []byte, TIMESTAMP time.Time (UTC), DATE "YYYY-MM-DD",
//	DATETIME "YYYY-MM-DD HH:MM:SS[.ffffff]", TIME "HH:MM:SS[.ffffff]",
//	NUMERIC/BIGNUMERIC the decimal rounded to the type's scale, JSON the
//	compacted document, INTERVAL the literal, STRUCT map[string]any,
//	REPEATED []any (empty, not NULL, when absent); NULL is nil.
//
// Which protocol buffer types a column takes follows Google's table
// (https://cloud.google.com/bigquery/docs/supported-data-types); the
// packed encodings (CivilTimeEncoder, BigDecimalByteStringEncoder) are
// not taken. Failures are injected with the hooks.
type bqFake struct {
	storagepb.UnimplementedBigQueryWriteServer

	mu      sync.Mutex
	tables  map[string]*bqFakeTable // by resource name
	streams map[string]*bqFakeStream
	n       int
	calls   []bqFakeCall
	appends int // AppendRows requests received
	conns   int // AppendRows connections

	// onAppend, when set, runs for every AppendRows request (n counts
	// from 1 across connections) before it is applied, and says what to
	// do instead of, or besides, answering it.
	onAppend func(n int, req *storagepb.AppendRowsRequest) bqFault
	// onCall, when set, runs for every unary call (by method name); an
	// error is its answer.
	onCall func(method string) error
}

type bqFakeCall struct {
	method string
	md     metadata.MD
}

// bqFault is what onAppend asks for.
type bqFault struct {
	// breakBefore ends the connection with this status before applying
	// the request.
	breakBefore error
	// breakAfter applies the request, then ends the connection with this
	// status instead of answering: the acknowledgement is lost.
	breakAfter error
	// answer answers with this error (and rowErrors) without applying.
	answer    *status.Status
	rowErrors []*storagepb.RowError
	// delay holds the answer back (the rows are applied first).
	delay time.Duration
}

type bqFakeTable struct {
	schema *storagepb.TableSchema
	rows   []map[string]any
}

type bqFakeStream struct {
	table     string
	typ       storagepb.WriteStream_Type
	rows      int64
	finalized bool
	created   time.Time
}

func newBQFake() *bqFake {
	return &bqFake{tables: map[string]*bqFakeTable{}, streams: map[string]*bqFakeStream{}}
}

// addTable creates a table with the given columns.
func (f *bqFake) addTable(name string, cols ...*storagepb.TableFieldSchema) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables[name] = &bqFakeTable{schema: &storagepb.TableSchema{Fields: cols}}
}

// rows returns a copy of the table's rows, in the order they were
// committed.
func (f *bqFake) rows(table string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.tables[table].rows...)
}

func (f *bqFake) callsOf(method string) []bqFakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []bqFakeCall
	for _, c := range f.calls {
		if c.method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *bqFake) appendCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.appends
}

func (f *bqFake) stream(name string) bqFakeStream {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.streams[name]
}

// call records a unary call and runs the hook.
func (f *bqFake) call(ctx context.Context, method string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.calls = append(f.calls, bqFakeCall{method: method, md: md})
	hook := f.onCall
	f.mu.Unlock()
	if hook != nil {
		return hook(method)
	}
	return nil
}

func bqStorageErr(code codes.Code, sc storagepb.StorageError_StorageErrorCode, format string, args ...any) *status.Status {
	msg := fmt.Sprintf(format, args...)
	st, err := status.New(code, msg).WithDetails(&storagepb.StorageError{Code: sc, ErrorMessage: msg})
	if err != nil {
		panic(err)
	}
	return st
}

func (f *bqFake) tableOf(name string) (*bqFakeTable, string) {
	i := strings.Index(name, "/streams/")
	if i >= 0 {
		name = name[:i]
	}
	return f.tables[name], name
}

func (f *bqFake) CreateWriteStream(ctx context.Context, req *storagepb.CreateWriteStreamRequest) (*storagepb.WriteStream, error) {
	if err := f.call(ctx, "CreateWriteStream"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[req.GetParent()]
	if t == nil {
		return nil, bqStorageErr(codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND, "Requested entity was not found. Entity: %s", req.GetParent()).Err()
	}
	typ := req.GetWriteStream().GetType()
	if typ != storagepb.WriteStream_COMMITTED && typ != storagepb.WriteStream_PENDING && typ != storagepb.WriteStream_BUFFERED {
		return nil, status.Error(codes.InvalidArgument, "a write stream needs a type")
	}
	f.n++
	name := fmt.Sprintf("%s/streams/fake%d", req.GetParent(), f.n)
	now := time.Now()
	f.streams[name] = &bqFakeStream{table: req.GetParent(), typ: typ, created: now}
	return &storagepb.WriteStream{Name: name, Type: typ, CreateTime: timestamppb.New(now), TableSchema: t.schema}, nil
}

func (f *bqFake) GetWriteStream(ctx context.Context, req *storagepb.GetWriteStreamRequest) (*storagepb.WriteStream, error) {
	if err := f.call(ctx, "GetWriteStream"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, table := f.tableOf(req.GetName())
	if t == nil {
		return nil, bqStorageErr(codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND, "Requested entity was not found. Entity: %s", table).Err()
	}
	ws := &storagepb.WriteStream{Name: req.GetName(), Type: storagepb.WriteStream_COMMITTED}
	if !strings.HasSuffix(req.GetName(), "/streams/_default") {
		s := f.streams[req.GetName()]
		if s == nil {
			return nil, bqStorageErr(codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND, "stream %s not found", req.GetName()).Err()
		}
		ws.Type, ws.CreateTime = s.typ, timestamppb.New(s.created)
	}
	if req.GetView() == storagepb.WriteStreamView_FULL {
		ws.TableSchema = t.schema
	}
	return ws, nil
}

func (f *bqFake) FinalizeWriteStream(ctx context.Context, req *storagepb.FinalizeWriteStreamRequest) (*storagepb.FinalizeWriteStreamResponse, error) {
	if err := f.call(ctx, "FinalizeWriteStream"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.streams[req.GetName()]
	if s == nil {
		return nil, bqStorageErr(codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND, "stream %s not found", req.GetName()).Err()
	}
	s.finalized = true
	return &storagepb.FinalizeWriteStreamResponse{RowCount: s.rows}, nil
}

// AppendRows serves one connection: the first request names the stream
// and carries the writer schema; every request is answered in order, an
// offset that is taken with ALREADY_EXISTS and one past the end with
// OUT_OF_RANGE (in the answer: the connection stays usable), as the real
// service does. A request with a row BigQuery would refuse is refused
// whole (INVALID_ARGUMENT with row errors), nothing of it applied.
func (f *bqFake) AppendRows(srv storagepb.BigQueryWrite_AppendRowsServer) error {
	md, _ := metadata.FromIncomingContext(srv.Context())
	f.mu.Lock()
	f.calls = append(f.calls, bqFakeCall{method: "AppendRows", md: md})
	f.conns++
	f.mu.Unlock()
	var (
		streamName string
		schema     *bqFakeSchema
	)
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.appends++
		n := f.appends
		hook := f.onAppend
		f.mu.Unlock()
		if req.GetWriteStream() != "" {
			streamName = req.GetWriteStream()
		}
		if streamName == "" {
			return status.Error(codes.InvalidArgument, "the first request of a connection must name the write stream")
		}
		if ws := req.GetProtoRows().GetWriterSchema(); ws != nil {
			f.mu.Lock()
			t, _ := f.tableOf(streamName)
			f.mu.Unlock()
			if t == nil {
				return bqStorageErr(codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND, "table of %s not found", streamName).Err()
			}
			if schema, err = newBQFakeSchema(ws.GetProtoDescriptor(), t.schema); err != nil {
				return err
			}
		}
		if schema == nil {
			return status.Error(codes.InvalidArgument, "the first request of a connection must carry the writer schema")
		}
		var fault bqFault
		if hook != nil {
			fault = hook(n, req)
		}
		if fault.breakBefore != nil {
			return fault.breakBefore
		}
		resp := f.apply(streamName, schema, req, fault)
		time.Sleep(fault.delay)
		if resp == nil {
			return fault.breakAfter
		}
		if err := srv.Send(resp); err != nil {
			return err
		}
	}
}

// apply appends the request's rows unless an offset, a row or the hook
// says otherwise; nil means applied with the answer lost (breakAfter).
func (f *bqFake) apply(streamName string, schema *bqFakeSchema, req *storagepb.AppendRowsRequest, fault bqFault) *storagepb.AppendRowsResponse {
	fail := func(st *status.Status, rowErrs []*storagepb.RowError) *storagepb.AppendRowsResponse {
		return &storagepb.AppendRowsResponse{Response: &storagepb.AppendRowsResponse_Error{Error: st.Proto()}, RowErrors: rowErrs, WriteStream: streamName}
	}
	if fault.answer != nil {
		return fail(fault.answer, fault.rowErrors)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, _ := f.tableOf(streamName)
	var s *bqFakeStream
	isDefault := strings.HasSuffix(streamName, "/streams/_default")
	if !isDefault {
		if s = f.streams[streamName]; s == nil {
			return fail(bqStorageErr(codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND, "stream %s not found", streamName), nil)
		}
		if s.finalized {
			return fail(bqStorageErr(codes.InvalidArgument, storagepb.StorageError_STREAM_FINALIZED, "stream %s is finalized", streamName), nil)
		}
	}
	rows := req.GetProtoRows().GetRows().GetSerializedRows()
	var at int64
	if off := req.GetOffset(); off != nil {
		if isDefault {
			return fail(status.New(codes.InvalidArgument, "an offset is not allowed on the default stream"), nil)
		}
		switch v := off.GetValue(); {
		case v < s.rows:
			return fail(bqStorageErr(codes.AlreadyExists, storagepb.StorageError_OFFSET_ALREADY_EXISTS, "offset %d already exists (the stream has %d rows)", v, s.rows), nil)
		case v > s.rows:
			return fail(bqStorageErr(codes.OutOfRange, storagepb.StorageError_OFFSET_OUT_OF_RANGE, "offset %d is beyond the end of the stream (%d rows)", v, s.rows), nil)
		}
	}
	if s != nil {
		at = s.rows
	}
	decoded := make([]map[string]any, 0, len(rows))
	var rowErrs []*storagepb.RowError
	for i, b := range rows {
		r, err := schema.decode(b)
		if err != nil {
			rowErrs = append(rowErrs, &storagepb.RowError{Index: int64(i), Code: storagepb.RowError_FIELDS_ERROR, Message: err.Error()})
			continue
		}
		decoded = append(decoded, r)
	}
	if len(rowErrs) > 0 {
		return fail(status.New(codes.InvalidArgument, fmt.Sprintf("Errors found while processing rows. Please refer to the row_errors field for details. The list may not be complete because of the size limitations. Entity: %s", streamName)), rowErrs)
	}
	t.rows = append(t.rows, decoded...)
	if s != nil {
		s.rows += int64(len(rows))
	}
	if fault.breakAfter != nil {
		return nil
	}
	resp := &storagepb.AppendRowsResponse{WriteStream: streamName, Response: &storagepb.AppendRowsResponse_AppendResult_{AppendResult: &storagepb.AppendRowsResponse_AppendResult{}}}
	if !isDefault {
		resp.GetAppendResult().Offset = wrapperspb.Int64(at)
	}
	return resp
}

// bqFakeSchema is a writer schema checked against the table's.
type bqFakeSchema struct {
	md   protoreflect.MessageDescriptor
	cols map[protoreflect.FullName]map[protoreflect.FieldNumber]*storagepb.TableFieldSchema
	top  []*storagepb.TableFieldSchema
}

// newBQFakeSchema builds the writer's message from its descriptor (as
// BigQuery does: one self-contained message, proto2) and checks each
// field against the column it names (by its name or the column_name
// annotation, without regard to case) and that column's type.
func newBQFakeSchema(dp *descriptorpb.DescriptorProto, table *storagepb.TableSchema) (*bqFakeSchema, error) {
	fdp := &descriptorpb.FileDescriptorProto{Name: proto.String("writer.proto"), Syntax: proto.String("proto2"), MessageType: []*descriptorpb.DescriptorProto{dp}}
	file, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid proto schema: %v", err)
	}
	s := &bqFakeSchema{md: file.Messages().Get(0), cols: map[protoreflect.FullName]map[protoreflect.FieldNumber]*storagepb.TableFieldSchema{}, top: table.GetFields()}
	if err := s.check(s.md, table.GetFields(), ""); err != nil {
		return nil, err
	}
	return s, nil
}

// bqAccepts is Google's table of the protocol buffer types each column
// type takes (without the well-known wrapper types).
var bqAccepts = map[storagepb.TableFieldSchema_Type][]protoreflect.Kind{
	storagepb.TableFieldSchema_BOOL:       {protoreflect.BoolKind, protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind},
	storagepb.TableFieldSchema_BYTES:      {protoreflect.BytesKind, protoreflect.StringKind},
	storagepb.TableFieldSchema_DATE:       {protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.StringKind},
	storagepb.TableFieldSchema_DATETIME:   {protoreflect.StringKind},
	storagepb.TableFieldSchema_TIME:       {protoreflect.StringKind},
	storagepb.TableFieldSchema_DOUBLE:     {protoreflect.DoubleKind, protoreflect.FloatKind},
	storagepb.TableFieldSchema_GEOGRAPHY:  {protoreflect.StringKind},
	storagepb.TableFieldSchema_INT64:      {protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.EnumKind},
	storagepb.TableFieldSchema_JSON:       {protoreflect.StringKind},
	storagepb.TableFieldSchema_NUMERIC:    {protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.DoubleKind, protoreflect.FloatKind, protoreflect.StringKind},
	storagepb.TableFieldSchema_BIGNUMERIC: {protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.DoubleKind, protoreflect.FloatKind, protoreflect.StringKind},
	storagepb.TableFieldSchema_STRING:     {protoreflect.StringKind, protoreflect.EnumKind},
	storagepb.TableFieldSchema_TIMESTAMP:  {protoreflect.Int64Kind, protoreflect.Int32Kind, protoreflect.Uint32Kind},
	storagepb.TableFieldSchema_INTERVAL:   {protoreflect.StringKind},
	storagepb.TableFieldSchema_STRUCT:     {protoreflect.MessageKind},
}

func (s *bqFakeSchema) check(md protoreflect.MessageDescriptor, cols []*storagepb.TableFieldSchema, path string) error {
	byNum := map[protoreflect.FieldNumber]*storagepb.TableFieldSchema{}
	s.cols[md.FullName()] = byNum
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		name := string(fd.Name())
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && proto.HasExtension(opts, storagepb.E_ColumnName) {
			name = proto.GetExtension(opts, storagepb.E_ColumnName).(string)
		}
		var col *storagepb.TableFieldSchema
		for _, c := range cols {
			if strings.EqualFold(c.GetName(), name) {
				col = c
			}
		}
		if col == nil {
			return bqStorageErr(codes.InvalidArgument, storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS, "Input schema has more fields than BigQuery schema, extra fields: '%s%s'", path, name).Err()
		}
		if (col.GetMode() == storagepb.TableFieldSchema_REPEATED) != fd.IsList() {
			return status.Errorf(codes.InvalidArgument, "The proto field mismatched with BigQuery field at %s%s, the proto field cardinality is %v, the BigQuery field mode is %v", path, name, fd.Cardinality(), col.GetMode())
		}
		ok := false
		for _, k := range bqAccepts[col.GetType()] {
			ok = ok || k == fd.Kind()
		}
		if !ok {
			return status.Errorf(codes.InvalidArgument, "The proto field mismatched with BigQuery field at %s%s, the proto field type %v, BigQuery field type %v", path, name, fd.Kind(), col.GetType())
		}
		if fd.Kind() == protoreflect.MessageKind {
			if err := s.check(fd.Message(), col.GetFields(), path+name+"."); err != nil {
				return err
			}
		}
		byNum[fd.Number()] = col
	}
	return nil
}

// decode reads one serialized row and returns it as BigQuery stores it,
// or the reason BigQuery refuses it.
func (s *bqFakeSchema) decode(b []byte) (map[string]any, error) {
	m := dynamicpb.NewMessage(s.md)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("the row does not decode: %v", err)
	}
	return s.record(m, s.top)
}

func (s *bqFakeSchema) record(m protoreflect.Message, cols []*storagepb.TableFieldSchema) (map[string]any, error) {
	out := make(map[string]any, len(cols))
	for _, c := range cols {
		if c.GetMode() == storagepb.TableFieldSchema_REPEATED {
			out[c.GetName()] = []any{}
		} else {
			out[c.GetName()] = nil
		}
	}
	byNum := s.cols[m.Descriptor().FullName()]
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		col := byNum[fd.Number()]
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		if fd.IsList() {
			l := v.List()
			vals := make([]any, l.Len())
			for j := range vals {
				x, err := s.value(l.Get(j), fd, col)
				if err != nil {
					return nil, fmt.Errorf("%s[%d]: %v", col.GetName(), j, err)
				}
				vals[j] = x
			}
			out[col.GetName()] = vals
			continue
		}
		x, err := s.value(v, fd, col)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", col.GetName(), err)
		}
		out[col.GetName()] = x
	}
	for _, c := range cols {
		if c.GetMode() == storagepb.TableFieldSchema_REQUIRED && out[c.GetName()] == nil && c.GetDefaultValueExpression() == "" {
			return nil, fmt.Errorf("required field %s is missing", c.GetName())
		}
	}
	return out, nil
}

var (
	bqFakeTime     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$`)
	bqFakeInterval = regexp.MustCompile(`^-?[0-9]+-[0-9]+ -?[0-9]+ -?[0-9]+:[0-9]+:[0-9]+(\.[0-9]{1,6})?$`)
)

func (s *bqFakeSchema) value(v protoreflect.Value, fd protoreflect.FieldDescriptor, col *storagepb.TableFieldSchema) (any, error) {
	asInt := func() int64 {
		switch fd.Kind() {
		case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
			return int64(v.Uint())
		case protoreflect.BoolKind:
			if v.Bool() {
				return 1
			}
			return 0
		}
		return v.Int()
	}
	switch col.GetType() {
	case storagepb.TableFieldSchema_BOOL:
		if fd.Kind() == protoreflect.BoolKind {
			return v.Bool(), nil
		}
		return asInt() != 0, nil
	case storagepb.TableFieldSchema_INT64:
		return asInt(), nil
	case storagepb.TableFieldSchema_DOUBLE:
		return v.Float(), nil
	case storagepb.TableFieldSchema_STRING, storagepb.TableFieldSchema_GEOGRAPHY:
		return v.String(), nil
	case storagepb.TableFieldSchema_BYTES:
		if fd.Kind() == protoreflect.StringKind {
			return []byte(v.String()), nil
		}
		return append([]byte{}, v.Bytes()...), nil
	case storagepb.TableFieldSchema_TIMESTAMP:
		us := asInt()
		if us < -62135596800000000 || us > 253402300799999999 {
			return nil, fmt.Errorf("timestamp %d is out of range", us)
		}
		return time.UnixMicro(us).UTC(), nil
	case storagepb.TableFieldSchema_DATE:
		var days int64
		if fd.Kind() == protoreflect.StringKind {
			t, err := time.Parse(time.DateOnly, v.String())
			if err != nil {
				return nil, fmt.Errorf("invalid date %q", v.String())
			}
			days = t.Unix() / 86400
		} else {
			days = asInt()
		}
		if days < -719162 || days > 2932896 {
			return nil, fmt.Errorf("date %d is out of range", days)
		}
		return time.Unix(days*86400, 0).UTC().Format(time.DateOnly), nil
	case storagepb.TableFieldSchema_DATETIME:
		for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999"} {
			if t, err := time.Parse(layout, v.String()); err == nil {
				return t.Format("2006-01-02 15:04:05.999999"), nil
			}
		}
		return nil, fmt.Errorf("invalid datetime %q", v.String())
	case storagepb.TableFieldSchema_TIME:
		if !bqFakeTime.MatchString(v.String()) {
			return nil, fmt.Errorf("invalid time %q", v.String())
		}
		return v.String(), nil
	case storagepb.TableFieldSchema_NUMERIC, storagepb.TableFieldSchema_BIGNUMERIC:
		scale, intDigits := 9, 29
		if col.GetType() == storagepb.TableFieldSchema_BIGNUMERIC {
			scale, intDigits = 38, 38
		}
		r := new(big.Rat)
		switch fd.Kind() {
		case protoreflect.StringKind:
			if _, ok := r.SetString(v.String()); !ok {
				return nil, fmt.Errorf("invalid numeric %q", v.String())
			}
		case protoreflect.DoubleKind, protoreflect.FloatKind:
			r.SetFloat64(v.Float())
		default:
			r.SetInt64(asInt())
		}
		str := r.FloatString(scale)
		if i := strings.IndexByte(strings.TrimPrefix(str, "-"), '.'); i > intDigits {
			return nil, fmt.Errorf("numeric %s is out of range", str)
		}
		str = strings.TrimRight(strings.TrimRight(str, "0"), ".")
		if str == "-0" {
			str = "0"
		}
		return str, nil
	case storagepb.TableFieldSchema_JSON:
		var doc any
		if err := json.Unmarshal([]byte(v.String()), &doc); err != nil {
			return nil, fmt.Errorf("invalid JSON %q", v.String())
		}
		b, _ := json.Marshal(doc)
		return string(b), nil
	case storagepb.TableFieldSchema_INTERVAL:
		if !bqFakeInterval.MatchString(v.String()) {
			return nil, fmt.Errorf("invalid interval %q", v.String())
		}
		return v.String(), nil
	case storagepb.TableFieldSchema_STRUCT:
		return s.record(v.Message(), col.GetFields())
	}
	return nil, fmt.Errorf("column type %v is not supported by the fake", col.GetType())
}

// bqServer serves a fake on a loopback address.
type bqServer struct {
	*bqFake
	addr string
	srv  *grpc.Server
}

func startBQServer(t *testing.T, f *bqFake, opts ...grpc.ServerOption) *bqServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	storagepb.RegisterBigQueryWriteServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return &bqServer{bqFake: f, addr: lis.Addr().String(), srv: srv}
}

// bqCol is a column of a fake table.
func bqCol(name string, typ storagepb.TableFieldSchema_Type, mode storagepb.TableFieldSchema_Mode, fields ...*storagepb.TableFieldSchema) *storagepb.TableFieldSchema {
	return &storagepb.TableFieldSchema{Name: name, Type: typ, Mode: mode, Fields: fields}
}

// bqRoutingOf returns the routing header of a call.
func bqRoutingOf(c bqFakeCall) string {
	v := c.md.Get("x-goog-request-params")
	if len(v) != 1 {
		return fmt.Sprintf("%d routing headers", len(v))
	}
	return v[0]
}

func bqItoa(n int) string { return strconv.Itoa(n) }
