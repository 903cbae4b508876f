package sink

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/avro"

	"github.com/sluicehq/sluice/internal/sql"
)

// Storage sink defaults (docs/sinks.md).
const (
	storageDefaultMaxRecords = 1_000_000
	storageDefaultMaxBytes   = 128 << 20
	storageDefaultMaxAge     = 5 * time.Minute
)

// Storage file formats.
const (
	storageJSON    = "json"
	storageCSV     = "csv"
	storageAvro    = "avro"
	storageParquet = "parquet"
)

// Content types of the records each file format is written from.
const (
	storageNDJSONType = "application/x-ndjson"
	storageCSVType    = "text/csv"
	storageAvroType   = "avro/binary"
)

// storageCompressions are, per file format, the compressions it takes; the
// first is the default.
var storageCompressions = map[string][]string{
	storageJSON:    {"gzip", "none", "zstd"},
	storageCSV:     {"gzip", "none", "zstd"},
	storageAvro:    {"deflate", "null", "snappy", "zstd"},
	storageParquet: {"snappy", "none", "gzip", "zstd"},
}

// storageS3Params are the query parameters an s3:// URL may carry.
var storageS3Params = []string{"region", "endpoint", "use_path_style", "disable_https", "ssetype", "kmskeyid"}

// storageConfig is the storage sink's settings, checked.
type storageConfig struct {
	rawURL string // as configured, without its query, for messages
	scheme string // file, s3, gs or azblob
	bucket string // s3, gs, azblob: the bucket or container
	dir    string // file: the directory, absolute

	// s3
	region, endpoint     string
	pathStyle, plainHTTP bool
	sse, kmsKey          string
	accessKey, secretKey string
	sessionToken         string
	endpointHost         string // for the destination check

	path       storagePath
	timeColumn string
	timeIndex  int // in Output.Columns; -1 without timeColumn
	timeKind   sql.Kind
	timeField  string // the Avro field of timeColumn

	format      string
	compression string
	header      bool
	delimiter   rune

	maxRecords int
	maxBytes   int64
	maxAge     time.Duration

	out         Output
	contentType string // the media type records must have; "" when the output is unknown
	avroSchema  *avro.Schema
	avroSOE     [10]byte // the single-object header of avroSchema
	parquet     *storageParquetSchema
}

// parseStorage checks the settings against env (the output, the file
// root, private destinations) without side effects: nothing is opened or
// created, and the network is not used.
func parseStorage(spec Spec, env Env) (*storageConfig, error) {
	s := NewSettings(spec)
	c := &storageConfig{timeIndex: -1, out: env.Output}
	raw := s.String("url", true, "")
	pathText := s.String("path", false, storageDefaultPath)
	c.timeColumn = s.String("timeColumn", false, "")
	c.format = strings.ToLower(s.String("fileFormat", false, ""))
	c.compression = strings.ToLower(s.String("compression", false, ""))
	c.header = s.Bool("header", false)
	delim := s.String("delimiter", false, "")
	c.maxRecords = int(s.Int("maxRecords", storageDefaultMaxRecords, 1, 100_000_000))
	c.maxBytes = s.Int("maxBytes", storageDefaultMaxBytes, 1024, 1<<30)
	c.maxAge = s.Duration("maxAge", storageDefaultMaxAge)
	if c.maxAge < 100*time.Millisecond || c.maxAge > 24*time.Hour {
		s.Fail("maxAge", fmt.Sprintf("%s is out of range (100ms to 24h)", c.maxAge))
	}
	c.accessKey = s.String("accessKeyId", false, "")
	c.secretKey = s.String("secretAccessKey", false, "")
	c.sessionToken = s.String("sessionToken", false, "")

	if raw != "" {
		c.parseURL(s, raw, env)
	}
	if c.scheme != "s3" {
		for _, k := range []string{"accessKeyId", "secretAccessKey", "sessionToken"} {
			if v, ok := spec.Settings[k]; ok && v != nil && c.scheme != "" {
				s.Fail(k, "only for s3:// buckets (other stores take credentials from the worker's environment)")
			}
		}
	} else if (c.accessKey == "") != (c.secretKey == "") {
		s.Fail("secretAccessKey", "accessKeyId and secretAccessKey go together: give both or neither")
	} else if c.sessionToken != "" && c.accessKey == "" {
		s.Fail("sessionToken", "needs accessKeyId and secretAccessKey")
	}

	p, problem := parseStoragePath(pathText)
	if problem != "" {
		s.Fail("path", problem)
	}
	c.path = p

	c.parseFormat(s, delim)
	c.parseTimeColumn(s)
	return c, s.Err()
}

// parseURL checks the bucket URL; for file buckets also the directory.
func (c *storageConfig) parseURL(s *Settings, raw string, env Env) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		s.Fail("url", "not a URL: "+err.Error())
		return
	}
	where := *u
	where.RawQuery, where.ForceQuery = "", false
	c.rawURL = where.String()
	if u.User != nil {
		s.Fail("url", "must not hold a user name or password (s3 keys go in accessKeyId and secretAccessKey)")
		return
	}
	if u.Fragment != "" {
		s.Fail("url", "must not have a fragment (#...)")
		return
	}
	c.scheme = strings.ToLower(u.Scheme)
	q := u.Query()
	switch c.scheme {
	case "file":
		if len(q) > 0 {
			s.Fail("url", "a file:// URL takes no query parameters")
			return
		}
		c.parseDir(s, u, env)
	case "s3":
		c.bucket = u.Host
		if !storageBucketName(c.bucket) {
			s.Fail("url", fmt.Sprintf("%q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", c.bucket))
			return
		}
		if u.Path != "" && u.Path != "/" {
			s.Fail("url", "must name the bucket only (s3://bucket?region=...); put a key prefix in path")
			return
		}
		for k := range q {
			if !slices.Contains(storageS3Params, k) {
				s.Fail("url", fmt.Sprintf("unknown query parameter %q for s3 (known: %s)", k, strings.Join(storageS3Params, ", ")))
				return
			}
		}
		c.region = q.Get("region")
		c.sse, c.kmsKey = q.Get("ssetype"), q.Get("kmskeyid")
		if c.sse != "" && c.sse != "AES256" && c.sse != "aws:kms" && c.sse != "aws:kms:dsse" {
			s.Fail("url", fmt.Sprintf("ssetype %q: want AES256, aws:kms or aws:kms:dsse", c.sse))
		}
		for _, b := range []struct {
			name string
			to   *bool
		}{{"use_path_style", &c.pathStyle}, {"disable_https", &c.plainHTTP}} {
			if v := q.Get(b.name); v != "" {
				x, err := strconv.ParseBool(v)
				if err != nil {
					s.Fail("url", fmt.Sprintf("%s=%q: want true or false", b.name, v))
				}
				*b.to = x
			}
		}
		if e := q.Get("endpoint"); e != "" {
			c.parseEndpoint(s, e, env)
		}
	case "gs", "azblob":
		c.bucket = u.Host
		if c.bucket == "" {
			s.Fail("url", "the bucket (container) name is missing: "+c.scheme+"://name")
			return
		}
		if u.Path != "" && u.Path != "/" {
			s.Fail("url", "must name the bucket only ("+c.scheme+"://name); put a key prefix in path")
			return
		}
		if len(q) > 0 {
			s.Fail("url", "a "+c.scheme+":// URL takes no query parameters (the store's settings come from the worker's environment)")
		}
	case "":
		s.Fail("url", "the scheme is missing: file:///dir, s3://bucket, gs://bucket or azblob://container")
	default:
		s.Fail("url", fmt.Sprintf("unsupported scheme %q (file, s3, gs or azblob)", u.Scheme))
	}
}

// parseEndpoint checks an S3 endpoint: an http(s) URL whose host, when an
// IP address, the destination rules allow.
func (c *storageConfig) parseEndpoint(s *Settings, e string, env Env) {
	eu, err := url.Parse(e)
	switch {
	case err != nil || eu.Host == "" || eu.Hostname() == "":
		s.Fail("url", fmt.Sprintf("endpoint %q is not a URL such as https://s3.example.com", e))
		return
	case eu.Scheme != "https" && eu.Scheme != "http":
		s.Fail("url", fmt.Sprintf("endpoint %q: the scheme must be https or http", e))
		return
	case eu.User != nil || eu.RawQuery != "" || eu.Fragment != "":
		s.Fail("url", "the endpoint must be scheme://host[:port][/path], without credentials, query or fragment")
		return
	}
	if eu.Scheme == "http" {
		c.plainHTTP = true
	}
	c.endpoint = e
	c.endpointHost = eu.Hostname()
	if ip, err := netip.ParseAddr(c.endpointHost); err == nil {
		if why := Forbidden(env, ip); why != "" {
			s.Fail("url", fmt.Sprintf("endpoint %s is %s, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)", c.endpointHost, why))
		}
	} else if strings.EqualFold(c.endpointHost, "localhost") && !env.AllowPrivate {
		s.Fail("url", "endpoint localhost is a loopback address, which sinks may not reach (the operator can allow private destinations with --allow-private-sinks)")
	}
}

// storageBucketName reports whether b can name an S3 bucket.
func storageBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// parseDir resolves a file:// URL's directory (under env.FileRoot when set)
// and checks that it exists.
func (c *storageConfig) parseDir(s *Settings, u *url.URL, env Env) {
	if u.Host != "" && u.Host != "localhost" && u.Host != "." {
		s.Fail("url", fmt.Sprintf("a file URL names no host (file:///dir, or file://./dir relative), not %q", u.Host))
		return
	}
	p := u.Path
	if u.Host == "." {
		p = strings.TrimPrefix(p, "/")
	}
	if p == "" {
		s.Fail("url", "the directory is missing: file:///dir")
		return
	}
	p = filepath.Clean(filepath.FromSlash(p))
	shown := p
	if env.FileRoot != "" {
		root, err := filepath.Abs(env.FileRoot)
		if err != nil {
			s.Fail("url", "the file sink directory: "+err.Error())
			return
		}
		if realRoot, err := filepath.EvalSymlinks(root); err == nil {
			root = realRoot
		}
		rel := p
		if filepath.IsAbs(rel) {
			if rel, err = filepath.Rel(root, p); err != nil {
				rel = ".."
			}
		}
		if !filepath.IsLocal(rel) && rel != "." {
			s.Fail("url", "must name a directory inside the file sink directory")
			return
		}
		p = filepath.Join(root, rel)
		// The directory, symbolic links resolved, must stay inside.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if r, err := filepath.Rel(root, real); err != nil || (!filepath.IsLocal(r) && r != ".") {
				s.Fail("url", "must name a directory inside the file sink directory (it leads out through a symbolic link)")
				return
			}
		}
	} else if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			s.Fail("url", err.Error())
			return
		}
		p = abs
	}
	switch fi, err := os.Stat(p); {
	case errors.Is(err, fs.ErrNotExist):
		s.Fail("url", fmt.Sprintf("directory %s does not exist", shown))
		return
	case err != nil:
		s.Fail("url", fmt.Sprintf("directory %s: %v", shown, unwrapPath(err)))
		return
	case !fi.IsDir():
		s.Fail("url", fmt.Sprintf("%s is not a directory", shown))
		return
	}
	c.dir = p
}

// parseFormat checks the file format against the records the output
// gives, and the format's own settings.
func (c *storageConfig) parseFormat(s *Settings, delim string) {
	mt, params, _ := mime.ParseMediaType(c.out.ContentType)
	outFormat := strings.ToLower(c.out.Format)
	if c.format == "" {
		switch outFormat {
		case storageCSV, storageAvro:
			c.format = outFormat
		default:
			c.format = storageJSON
		}
	}
	comps, ok := storageCompressions[c.format]
	if !ok {
		s.Fail("fileFormat", fmt.Sprintf("unknown file format %q (json, csv, avro or parquet)", c.format))
		return
	}
	if c.compression == "" {
		c.compression = comps[0]
	} else if !slices.Contains(comps, c.compression) {
		s.Fail("compression", fmt.Sprintf("%q is not a compression for %s files (one of %s)", c.compression, c.format, strings.Join(comps, ", ")))
	}
	if c.header && c.format != storageCSV {
		s.Fail("header", "only for csv files")
	}
	c.delimiter = ','
	if delim != "" {
		r, size := utf8.DecodeRuneInString(delim)
		switch {
		case c.format != storageCSV:
			s.Fail("delimiter", "only for csv files")
		case size != len(delim) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n':
			s.Fail("delimiter", fmt.Sprintf("%q is not a CSV delimiter: one character, not a quote, CR or LF", delim))
		default:
			c.delimiter = r
		}
	}

	// The records the output gives, by format: what each file format is
	// written from.
	want := map[string]string{storageJSON: storageNDJSONType, storageCSV: storageCSVType,
		storageAvro: storageAvroType, storageParquet: storageNDJSONType}[c.format]
	c.contentType = want
	if mt == "" {
		// The output is not known (a sink opened outside a subscription):
		// the records' content type is checked at each write.
		if c.format == storageParquet {
			s.Fail("fileFormat", "parquet files need the result columns of the subscription's output")
		}
		if c.format == storageAvro {
			s.Fail("fileFormat", "avro files need the Avro schema of the subscription's output")
		}
		return
	}
	switch {
	case mt == "application/json":
		s.Fail("fileFormat", "the subscription's JSON output is an array per batch (formatOptions.array): "+c.format+" files are written from one JSON object per record, so turn the array option off")
	case mt == "application/avro":
		s.Fail("fileFormat", "the subscription's Avro output is a container file per batch (formatOptions.container): the storage sink writes its own container files from single-object records, so turn the container option off (set compression here instead of formatOptions.codec)")
	case mt == storageCSVType && params["header"] == "present":
		s.Fail("fileFormat", "the subscription's CSV output starts every batch with a header line (formatOptions.header): turn it off, and set the sink's header to true for one header line per file")
	case mt != want:
		from := map[string]string{storageNDJSONType: "JSON", storageCSVType: "CSV", storageAvroType: "AVRO"}[mt]
		if from == "" {
			from = mt
		}
		if c.format == storageParquet {
			s.Fail("fileFormat", fmt.Sprintf("parquet files are made from JSON records, but the subscription's output format is %s: use outputFormat JSON", from))
		} else {
			s.Fail("fileFormat", fmt.Sprintf("%s files are written from the subscription's records as they are, but its output format is %s: use fileFormat %s (or parquet, from JSON)", c.format, from, strings.ToLower(from)))
		}
	}
	switch c.format {
	case storageAvro:
		if c.out.Schema == "" {
			s.Fail("fileFormat", "avro files need the Avro schema of the subscription's output")
			return
		}
		sc, err := avro.Parse(c.out.Schema)
		if err != nil {
			s.Fail("fileFormat", "the output's Avro schema: "+err.Error())
			return
		}
		c.avroSchema = sc
		h := avro.NewRabin()
		h.Write(sc.Canonical())
		c.avroSOE[0], c.avroSOE[1] = 0xC3, 0x01
		binary.LittleEndian.PutUint64(c.avroSOE[2:], h.Sum64())
	case storageParquet:
		if len(c.out.Columns) == 0 {
			s.Fail("fileFormat", "parquet files need the result columns of the subscription's output")
			return
		}
		c.parquet = newStorageParquetSchema(c.out.Columns)
	}
}

// parseTimeColumn checks timeColumn: a TIMESTAMP or DATE result column.
func (c *storageConfig) parseTimeColumn(s *Settings) {
	if c.timeColumn == "" {
		return
	}
	if len(c.out.Columns) == 0 {
		s.Fail("timeColumn", "needs the result columns of the subscription's output")
		return
	}
	col, i := c.out.Column(c.timeColumn)
	if i < 0 {
		names := make([]string, len(c.out.Columns))
		for i, c := range c.out.Columns {
			names[i] = c.Name
		}
		s.Fail("timeColumn", fmt.Sprintf("%q is not a result column (the query returns %s)", c.timeColumn, strings.Join(names, ", ")))
		return
	}
	kind := sql.Unknown
	if col.Type != nil {
		kind = col.Type.Kind
	}
	if kind != sql.Timestamp && kind != sql.Date {
		s.Fail("timeColumn", fmt.Sprintf("column %s is %s: the event time must be a TIMESTAMP or DATE", col.Name, kind))
		return
	}
	c.timeColumn, c.timeIndex, c.timeKind = col.Name, i, kind
	if c.format == storageAvro && c.out.Schema != "" {
		var rec struct {
			Fields []struct {
				Name string `json:"name"`
			} `json:"fields"`
		}
		if err := json.Unmarshal([]byte(c.out.Schema), &rec); err != nil || len(rec.Fields) != len(c.out.Columns) {
			s.Fail("timeColumn", "the output's Avro schema does not list the result columns")
			return
		}
		c.timeField = rec.Fields[i].Name
	}
}

// ext is the file name extension of the objects.
func (c *storageConfig) ext() string {
	switch c.format {
	case storageAvro:
		return ".avro"
	case storageParquet:
		return ".parquet"
	}
	e := ".ndjson"
	if c.format == storageCSV {
		e = ".csv"
	}
	switch c.compression {
	case "gzip":
		e += ".gz"
	case "zstd":
		e += ".zst"
	}
	return e
}

// objectType is the content type the objects are stored with.
func (c *storageConfig) objectType() string {
	switch {
	case c.format == storageAvro:
		return "application/avro"
	case c.format == storageParquet:
		return "application/vnd.apache.parquet"
	case c.compression == "gzip":
		return "application/gzip"
	case c.compression == "zstd":
		return "application/zstd"
	case c.format == storageCSV:
		return "text/csv; charset=utf-8"
	}
	return storageNDJSONType
}
