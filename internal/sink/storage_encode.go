package sink

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/avro/ocf"
)

// storageRec is one buffered record: its source offset (-1 for an
// aggregation result) and its encoded value.
type storageRec struct {
	off int64
	val []byte
}

// maxStorageBuffer is the largest encoding buffer the storage sink keeps
// between objects.
const maxStorageBuffer = 16 << 20

// storageEncoder makes the bytes of one object from records, in the
// sink's file format and compression. The same records give the same
// bytes (the Avro sync marker derives from the object's name), so an
// object written again after a crash is identical. Not safe for
// concurrent use.
type storageEncoder struct {
	c       *storageConfig
	buf     bytes.Buffer
	gz      *gzip.Writer
	zs      *zstd.Encoder
	parquet *storageParquetWriter
}

func newStorageEncoder(c *storageConfig) *storageEncoder {
	e := &storageEncoder{c: c}
	if c.format == storageParquet {
		e.parquet = newStorageParquetWriter(c.parquet, c.compression)
	}
	return e
}

// encode returns the object holding recs, named key; the bytes are valid
// until the next call.
func (e *storageEncoder) encode(recs []storageRec, key string) ([]byte, error) {
	if e.buf.Cap() > maxStorageBuffer {
		e.buf = bytes.Buffer{}
	}
	e.buf.Reset()
	var err error
	switch e.c.format {
	case storageParquet:
		err = e.parquet.write(&e.buf, recs)
	case storageAvro:
		err = e.avro(recs, key)
	default:
		err = e.text(recs)
	}
	if err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// text writes NDJSON or CSV: the records as they are, each ending in a
// line break, after a header line for CSV with header; compressed.
func (e *storageEncoder) text(recs []storageRec) error {
	var w io.Writer = &e.buf
	switch e.c.compression {
	case "gzip":
		if e.gz == nil {
			e.gz, _ = gzip.NewWriterLevel(&e.buf, gzip.DefaultCompression)
		} else {
			e.gz.Reset(&e.buf)
		}
		w = e.gz
	case "zstd":
		if e.zs == nil {
			var err error
			if e.zs, err = zstd.NewWriter(&e.buf, zstd.WithEncoderConcurrency(1)); err != nil {
				return err
			}
		} else {
			e.zs.Reset(&e.buf)
		}
		w = e.zs
	}
	if e.c.format == storageCSV && e.c.header && len(recs) > 0 {
		eol := "\n"
		if bytes.HasSuffix(recs[0].val, []byte("\r\n")) {
			eol = "\r\n"
		}
		if _, err := w.Write(e.csvHeader(eol)); err != nil {
			return err
		}
	}
	for _, r := range recs {
		if _, err := w.Write(r.val); err != nil {
			return err
		}
		if len(r.val) == 0 || r.val[len(r.val)-1] != '\n' {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
	}
	switch e.c.compression {
	case "gzip":
		return e.gz.Close()
	case "zstd":
		return e.zs.Close()
	}
	return nil
}

// csvHeader is the line of column names, each quoted, as the CSV format
// writes its header.
func (e *storageEncoder) csvHeader(eol string) []byte {
	var b []byte
	for i, c := range e.c.out.Columns {
		if i > 0 {
			b = append(b, string(e.c.delimiter)...)
		}
		b = append(b, '"')
		b = append(b, bytes.ReplaceAll([]byte(c.Name), []byte{'"'}, []byte{'"', '"'})...)
		b = append(b, '"')
	}
	return append(b, eol...)
}

// avro writes an object container file of the single-object records'
// datums, with the output's schema and the compression as its codec.
func (e *storageEncoder) avro(recs []storageRec, key string) error {
	sum := sha256.Sum256([]byte(key))
	var sync [16]byte
	copy(sync[:], sum[:])
	opts := []ocf.WriterOpt{ocf.WithSchema(e.c.out.Schema), ocf.WithSyncMarker(sync)}
	switch e.c.compression {
	case "deflate":
		opts = append(opts, ocf.WithCodec(ocf.DeflateCodec(flate.DefaultCompression)))
	case "snappy":
		opts = append(opts, ocf.WithCodec(ocf.SnappyCodec()))
	case "zstd":
		codec, err := ocf.ZstdCodec([]zstd.EOption{zstd.WithEncoderConcurrency(1)}, nil)
		if err != nil {
			return err
		}
		opts = append(opts, ocf.WithCodec(codec))
	}
	w, err := ocf.NewWriter(&e.buf, e.c.avroSchema, opts...)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if len(r.val) < 10 || !bytes.Equal(r.val[:10], e.c.avroSOE[:]) {
			w.Close()
			return fmt.Errorf("record at offset %d is not a single-object record of the output's Avro schema", r.off)
		}
		if _, err := w.Write(r.val[10:]); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
