package sink

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/sluicehq/sluice/internal/sql"
)

// This file maps the query's result columns onto the columns of the
// destination table: it builds the protocol buffer message the rows are
// sent as (its descriptor goes to BigQuery with the first append of a
// connection) and converts each JSON record into one such message.
// docs/sinks.md has the mapping as a table; bqConverter below is its code.

// BigQuery's ranges (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types).
const (
	bqMinDate = -719162 // 0001-01-01, days since the epoch
	bqMaxDate = 2932896 // 9999-12-31
	// bqMaxIntervalHours bounds the hour part of an INTERVAL (10,000 years).
	bqMaxIntervalHours = 87_840_000
)

// bqProtoName is what a protocol buffer field name may be; other column
// names are sent with the column_name annotation.
var bqProtoName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// bqRows is the message rows are sent as, and how a JSON record becomes
// one. It is immutable once built, and safe for concurrent use.
type bqRows struct {
	// desc is the writer schema: one self-contained message, the nested
	// ones (records, map entries) inside it, referenced by their short
	// names.
	desc *descriptorpb.DescriptorProto
	root *bqRecord
}

// bqRecord converts a JSON object into a message: the row, or a RECORD
// value going to a STRUCT column.
type bqRecord struct {
	fields map[string]*bqField // by the JSON key: the column or record field name
	all    []*bqField          // by idx
	path   string              // "" for the row, "column.field" for records
}

// bqField converts one JSON value into a field of a message.
type bqField struct {
	key      string // the JSON key
	path     string // the column, or column.field, for errors
	idx      int    // in bqRecord.all
	num      protowire.Number
	list     bool // a REPEATED column: the value is a JSON array
	entries  bool // a MAP going to a REPEATED STRUCT of key and value: a JSON object
	required bool
	omit     bool // a column of unknown type (a bare NULL): never sent
	// conv converts one value (one element of a list, or a whole MAP
	// going to entries).
	conv bqConverter
}

// bqConverter reads one JSON value from j and appends it to dst as field
// f (its tag and value); a JSON null appends nothing and reports null.
type bqConverter func(j *bqJSON, dst []byte, f *bqField) (out []byte, null bool, err error)

// bqSchemaError is a mismatch between the result columns and the table,
// reported as a ConfigError of the table setting.
type bqSchemaError struct{ msg string }

func (e *bqSchemaError) Error() string { return e.msg }

func bqSchemaErrf(format string, args ...any) error {
	return &bqSchemaError{msg: fmt.Sprintf(format, args...)}
}

// bqBuilder accumulates the descriptor of the row message and its nested
// messages.
type bqBuilder struct {
	root   *descriptorpb.DescriptorProto
	nested int
}

// bqNestedName is how nested messages are named; a column whose name
// matches is sent under another name, with the column_name annotation.
var bqNestedName = regexp.MustCompile(`(?i)^sluicestruct[0-9]+$`)

// newBQRows maps the result columns onto the table's columns. Column
// names match without regard to case, as BigQuery's do. Every result
// column must have a column it fits (see bqBuilder.value); table columns
// the query does not return must be NULLABLE, REPEATED or have a default.
func newBQRows(cols []sql.OutputColumn, table *storagepb.TableSchema) (*bqRows, error) {
	if len(cols) == 0 {
		return nil, bqSchemaErrf("the query returns no columns")
	}
	if len(table.GetFields()) == 0 {
		return nil, bqSchemaErrf("the table has no columns")
	}
	b := &bqBuilder{root: &descriptorpb.DescriptorProto{Name: proto.String("SluiceRow")}}
	fields := make([]sql.Field, len(cols))
	for i, c := range cols {
		fields[i] = sql.Field(c)
	}
	root, err := b.record(b.root, "", fields, table.GetFields())
	if err != nil {
		return nil, err
	}
	// Build the descriptor once here, as BigQuery will, to check it.
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("sluice_bigquery_row.proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{b.root},
	}
	file, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		return nil, fmt.Errorf("bigquery sink: build the row descriptor: %w", err)
	}
	if file.Messages().Len() != 1 {
		return nil, errors.New("bigquery sink: the row descriptor is not one message")
	}
	return &bqRows{desc: b.root, root: root}, nil
}

// record adds to msg one field per SQL field, each going to the table
// column of the same name among cols.
func (b *bqBuilder) record(msg *descriptorpb.DescriptorProto, path string, fields []sql.Field, cols []*storagepb.TableFieldSchema) (*bqRecord, error) {
	what := "the table"
	if path != "" {
		what = "the STRUCT column " + path
	}
	r := &bqRecord{path: path, fields: make(map[string]*bqField, len(fields))}
	byName := make(map[string]*storagepb.TableFieldSchema, len(cols))
	taken := map[string]bool{} // proto names, lower-cased
	for _, c := range cols {
		byName[strings.ToLower(c.GetName())] = c
		taken[strings.ToLower(c.GetName())] = true
	}
	used := map[string]bool{}
	var errs []error
	for _, f := range fields {
		fpath := f.Name
		if path != "" {
			fpath = path + "." + f.Name
		}
		lower := strings.ToLower(f.Name)
		col, ok := byName[lower]
		switch {
		case !ok:
			names := make([]string, len(cols))
			for i, c := range cols {
				names[i] = c.GetName()
			}
			errs = append(errs, bqSchemaErrf("%s has no column %s (it has %s)", what, fpath, strings.Join(names, ", ")))
			continue
		case used[lower]:
			errs = append(errs, bqSchemaErrf("two result columns go to column %s of %s (names match without regard to case)", col.GetName(), what))
			continue
		}
		used[lower] = true
		bf := &bqField{key: f.Name, path: fpath, idx: len(r.all), num: protowire.Number(len(msg.Field) + 1), required: col.GetMode() == storagepb.TableFieldSchema_REQUIRED}
		r.fields[f.Name] = bf
		r.all = append(r.all, bf)
		if f.Type.Kind == sql.Unknown && path == "" && !bqTextual(col) {
			// A bare NULL: always NULL, so nothing to send.
			if bf.required {
				errs = append(errs, bqSchemaErrf("column %s is REQUIRED, but the query returns NULL for it", fpath))
			}
			bf.omit = true
			continue
		}
		fdp, err := b.field(bf, f.Type, col)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := col.GetName()
		if !bqProtoName.MatchString(name) || bqNestedName.MatchString(name) {
			// A flexible column name (spaces, letters beyond ASCII, ...):
			// BigQuery takes the column from the annotation.
			if fdp.Options == nil {
				fdp.Options = &descriptorpb.FieldOptions{}
			}
			proto.SetExtension(fdp.Options, storagepb.E_ColumnName, name)
			for n := int(bf.num); ; n++ {
				name = fmt.Sprintf("sluice_column_%d", n)
				if !taken[name] {
					break
				}
			}
			taken[name] = true
		}
		fdp.Name = proto.String(name)
		fdp.Number = proto.Int32(int32(bf.num))
		msg.Field = append(msg.Field, fdp)
	}
	for _, c := range cols {
		if !used[strings.ToLower(c.GetName())] && c.GetMode() == storagepb.TableFieldSchema_REQUIRED && c.GetDefaultValueExpression() == "" {
			cp := c.GetName()
			if path != "" {
				cp = path + "." + cp
			}
			errs = append(errs, bqSchemaErrf("column %s is REQUIRED (and has no default), but the query does not return it", cp))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// bqTextual reports whether col takes any value as text (STRING, JSON).
func bqTextual(col *storagepb.TableFieldSchema) bool {
	t := col.GetType()
	return col.GetMode() != storagepb.TableFieldSchema_REPEATED && (t == storagepb.TableFieldSchema_STRING || t == storagepb.TableFieldSchema_JSON)
}

// field sets bf's conversion of a value of type t to column col, and
// returns the field's descriptor (without name and number).
func (b *bqBuilder) field(bf *bqField, t *sql.Type, col *storagepb.TableFieldSchema) (*descriptorpb.FieldDescriptorProto, error) {
	fdp := &descriptorpb.FieldDescriptorProto{Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
	var typ descriptorpb.FieldDescriptorProto_Type
	var typeName string
	var err error
	if col.GetMode() == storagepb.TableFieldSchema_REPEATED {
		fdp.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		bf.list = true
		switch t.Kind {
		case sql.Array:
			typ, typeName, bf.conv, err = b.value(bf.path+"[]", t.Elem, col)
		case sql.Map:
			bf.entries = true
			typ = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
			typeName, bf.conv, err = b.mapEntries(bf.path, t.Elem, col)
		default:
			err = bqSchemaErrf("column %s is REPEATED (an array), but the query returns %s for it", bf.path, t)
		}
	} else {
		typ, typeName, bf.conv, err = b.value(bf.path, t, col)
	}
	if err != nil {
		return nil, err
	}
	fdp.Type = typ.Enum()
	if typeName != "" {
		fdp.TypeName = proto.String(typeName)
	}
	return fdp, nil
}

// newNested adds a nested message to the root (every nested message sits
// in the root, so that the descriptor is self-contained).
func (b *bqBuilder) newNested() *descriptorpb.DescriptorProto {
	b.nested++
	m := &descriptorpb.DescriptorProto{Name: proto.String(fmt.Sprintf("SluiceStruct%d", b.nested))}
	b.root.NestedType = append(b.root.NestedType, m)
	return m
}

// value returns the field type (and message name) and conversion of one
// value of type t going to a column of col's type; the column's mode is
// the caller's business.
func (b *bqBuilder) value(path string, t *sql.Type, col *storagepb.TableFieldSchema) (descriptorpb.FieldDescriptorProto_Type, string, bqConverter, error) {
	const (
		tBool   = descriptorpb.FieldDescriptorProto_TYPE_BOOL
		tInt64  = descriptorpb.FieldDescriptorProto_TYPE_INT64
		tInt32  = descriptorpb.FieldDescriptorProto_TYPE_INT32
		tDouble = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		tString = descriptorpb.FieldDescriptorProto_TYPE_STRING
		tBytes  = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		tMsg    = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	k, ct := t.Kind, col.GetType()
	switch ct {
	case storagepb.TableFieldSchema_STRING:
		if k == sql.Varchar {
			return tString, "", bqString, nil
		}
		return tString, "", bqText, nil
	case storagepb.TableFieldSchema_JSON:
		return tString, "", bqJSONText, nil
	case storagepb.TableFieldSchema_BOOL:
		if k == sql.Boolean {
			return tBool, "", bqBool, nil
		}
	case storagepb.TableFieldSchema_INT64:
		switch k {
		case sql.Integer, sql.BigInt:
			return tInt64, "", bqInt64, nil
		case sql.Interval:
			return tInt64, "", bqIntervalMicros, nil
		}
	case storagepb.TableFieldSchema_DOUBLE:
		switch k {
		case sql.Double, sql.Integer, sql.BigInt:
			return tDouble, "", bqDouble, nil
		}
	case storagepb.TableFieldSchema_NUMERIC, storagepb.TableFieldSchema_BIGNUMERIC:
		switch k {
		case sql.Integer, sql.BigInt:
			return tInt64, "", bqInt64, nil
		case sql.Double:
			return tString, "", bqDecimalString, nil
		case sql.Varchar:
			return tString, "", bqString, nil
		}
	case storagepb.TableFieldSchema_BYTES:
		if k == sql.Bytes {
			return tBytes, "", bqBytes, nil
		}
	case storagepb.TableFieldSchema_TIMESTAMP:
		if k == sql.Timestamp {
			return tInt64, "", bqTimestamp, nil
		}
	case storagepb.TableFieldSchema_DATETIME:
		switch k {
		case sql.Timestamp:
			return tString, "", bqDatetime, nil
		case sql.Varchar:
			return tString, "", bqString, nil
		}
	case storagepb.TableFieldSchema_DATE:
		switch k {
		case sql.Date:
			return tInt32, "", bqDate, nil
		case sql.Varchar:
			return tString, "", bqString, nil
		}
	case storagepb.TableFieldSchema_TIME:
		switch k {
		case sql.Time:
			return tString, "", bqTime, nil
		case sql.Varchar:
			return tString, "", bqString, nil
		}
	case storagepb.TableFieldSchema_INTERVAL:
		switch k {
		case sql.Interval:
			return tString, "", bqIntervalString, nil
		case sql.Varchar:
			return tString, "", bqString, nil
		}
	case storagepb.TableFieldSchema_GEOGRAPHY:
		if k == sql.Varchar {
			return tString, "", bqString, nil
		}
	case storagepb.TableFieldSchema_STRUCT:
		if k == sql.Record {
			msg := b.newNested()
			r, err := b.record(msg, path, t.Fields, col.GetFields())
			if err != nil {
				return 0, "", nil, err
			}
			return tMsg, msg.GetName(), r.convert, nil
		}
	}
	if k == sql.Unknown {
		return 0, "", nil, bqSchemaErrf("%s has a type the sink cannot read (write it to a STRING or JSON column, which take any value as JSON text)", path)
	}
	return 0, "", nil, bqSchemaErrf("column %s is %s, which a %s value cannot be written to (see the bigquery sink's type mapping in docs/sinks.md)", path, bqTypeName(col), t)
}

// mapEntries converts a MAP into a REPEATED STRUCT<key STRING, value T>
// column: one element per entry, in the record's order. It returns the
// name of the entry message.
func (b *bqBuilder) mapEntries(path string, elem *sql.Type, col *storagepb.TableFieldSchema) (string, bqConverter, error) {
	var key, val *storagepb.TableFieldSchema
	for _, f := range col.GetFields() {
		switch strings.ToLower(f.GetName()) {
		case "key":
			key = f
		case "value":
			val = f
		default:
			if f.GetMode() == storagepb.TableFieldSchema_REQUIRED && f.GetDefaultValueExpression() == "" {
				return "", nil, bqSchemaErrf("column %s takes a MAP as key/value entries, but its field %s is REQUIRED", path, f.GetName())
			}
		}
	}
	if col.GetType() != storagepb.TableFieldSchema_STRUCT || key == nil || val == nil || key.GetType() != storagepb.TableFieldSchema_STRING || key.GetMode() == storagepb.TableFieldSchema_REPEATED {
		return "", nil, bqSchemaErrf("column %s must be REPEATED STRUCT<key STRING, value ...> (or a STRING or JSON column) to take a MAP", path)
	}
	msg := b.newNested()
	keyField := &bqField{key: "key", path: path + ".key", num: 1}
	valField := &bqField{key: "value", path: path + ".value", idx: 1, num: 2, required: val.GetMode() == storagepb.TableFieldSchema_REQUIRED}
	vfdp, err := b.field(valField, elem, val)
	if err != nil {
		return "", nil, err
	}
	kfdp := &descriptorpb.FieldDescriptorProto{Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()}
	for i, f := range []struct {
		fdp *descriptorpb.FieldDescriptorProto
		col *storagepb.TableFieldSchema
	}{{kfdp, key}, {vfdp, val}} {
		f.fdp.Number = proto.Int32(int32(i + 1))
		f.fdp.Name = proto.String(f.col.GetName())
		msg.Field = append(msg.Field, f.fdp)
	}
	// Each entry of the JSON object becomes one element of the list: a
	// message of the key and the value.
	conv := func(j *bqJSON, dst []byte, f *bqField) ([]byte, bool, error) {
		if j.null() {
			return dst, true, nil
		}
		if err := j.expect('{'); err != nil {
			return dst, false, errors.New("not a JSON object")
		}
		for first := true; ; first = false {
			more, err := j.next('}', first)
			if err != nil || !more {
				return dst, false, err
			}
			k, err := j.str()
			if err != nil {
				return dst, false, err
			}
			dst = protowire.AppendTag(dst, f.num, protowire.BytesType)
			at := len(dst)
			dst = append(dst, 0)
			dst = protowire.AppendTag(dst, keyField.num, protowire.BytesType)
			dst = protowire.AppendBytes(dst, k)
			if err := j.expect(':'); err != nil {
				return dst, false, err
			}
			if valField.list {
				dst, err = bqList(j, dst, valField)
			} else {
				var null bool
				if dst, null, err = valField.conv(j, dst, valField); err == nil && null && valField.required {
					err = fmt.Errorf("the value of key %q is NULL, but the field is REQUIRED", bqEntryKey(dst[at+1:]))
				}
			}
			if err != nil {
				return dst, false, bqValueErr(valField, err)
			}
			dst = bqCloseMessage(dst, at)
		}
	}
	return msg.GetName(), conv, nil
}

// bqTypeName names a column's type as BigQuery writes it.
func bqTypeName(col *storagepb.TableFieldSchema) string {
	n := col.GetType().String()
	switch col.GetType() {
	case storagepb.TableFieldSchema_DOUBLE:
		n = "FLOAT64"
	case storagepb.TableFieldSchema_STRUCT:
		n = "STRUCT"
	}
	if col.GetMode() == storagepb.TableFieldSchema_REPEATED {
		n = "REPEATED " + n
	}
	return n
}
