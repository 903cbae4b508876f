package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluicehq/sluice/internal/kafkaconn"
)

func init() {
	RegisterType(Type{Name: "kafka", Open: openKafka, Validate: validateKafka, Probe: probeKafka, ExactlyOnce: true})
}

// kafkaTopicName is what Kafka accepts as a topic name.
var kafkaTopicName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// kafkaCompressions are the codecs the compression setting takes.
var kafkaCompressions = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// kafkaOffsetsGroup is the consumer group under which the exactly-once
// kafka sink commits a job's source offsets in its transactions, on the
// destination cluster. It is not the job's own group (job.GroupID), which
// the runtime commits to on the source cluster after every batch, so that
// the two never race.
func kafkaOffsetsGroup(job string) string { return "sluice.sink." + job }

// kafkaTransactionalID names the producer of one task of a job: a task
// restarted anywhere takes over the id, which fences the old instance.
func kafkaTransactionalID(job, task string) string { return "sluice." + job + "." + task }

// kafkaConfig is the kafka sink's settings, checked.
type kafkaConfig struct {
	cluster     string
	topic       string
	key         *fieldReader // nil: records have no key
	keyColumn   string
	headers     []kgo.RecordHeader
	compression kgo.CompressionCodec
	txnTimeout  time.Duration
}

func parseKafka(spec Spec, env Env) (kafkaConfig, error) {
	s := NewSettings(spec)
	c := kafkaConfig{
		cluster:    s.String("cluster", false, ""),
		topic:      s.String("topic", true, ""),
		keyColumn:  s.String("key", false, ""),
		txnTimeout: s.Duration("transactionTimeout", time.Minute),
	}
	if c.topic != "" && (!kafkaTopicName.MatchString(c.topic) || c.topic == "." || c.topic == "..") {
		s.Fail("topic", fmt.Sprintf("%q is not a Kafka topic name (1 to 249 letters, digits, '.', '_' and '-')", c.topic))
	}
	codec := s.String("compression", false, "lz4")
	if cc, ok := kafkaCompressions[strings.ToLower(codec)]; ok {
		c.compression = cc
	} else {
		s.Fail("compression", fmt.Sprintf("%q: want none, gzip, snappy, lz4 or zstd", codec))
	}
	headers := s.StringMap("headers")
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		switch {
		case k == "":
			s.Fail("headers", "a header name must not be empty")
		case strings.HasPrefix(strings.ToLower(k), "sluice-"):
			s.Fail("headers", fmt.Sprintf("%q: headers starting sluice- are the sink's", k))
		}
		c.headers = append(c.headers, kgo.RecordHeader{Key: k, Value: []byte(headers[k])})
	}
	if c.txnTimeout > 15*time.Minute {
		s.Fail("transactionTimeout", "at most 15m (the broker's transaction.max.timeout.ms default)")
	}
	if c.keyColumn != "" && env.Output.ContentType != "" {
		kr, err := newFieldReader(env.Output, c.keyColumn)
		if err != nil {
			s.Fail("key", err.Error())
		}
		c.key = kr
	}
	return c, s.Err()
}

func validateKafka(spec Spec, env Env) error {
	_, err := parseKafka(spec, env)
	return err
}

// kafkaConnect resolves the cluster and checks that the topic exists.
func kafkaConnect(ctx context.Context, c kafkaConfig, env Env, opts ...kgo.Opt) (*kgo.Client, error) {
	if env.KafkaCluster == nil {
		return nil, Permanent(errors.New("kafka sink: this process cannot reach Kafka clusters"))
	}
	conn, err := env.KafkaCluster(ctx, env.Tenant, c.cluster)
	if err != nil {
		return nil, &ConfigError{Type: "kafka", Field: "cluster", Message: err.Error()}
	}
	cl, err := kafkaconn.NewClient(conn, append([]kgo.Opt{kgo.DefaultProduceTopic(c.topic)}, opts...)...)
	if err != nil {
		return nil, &ConfigError{Type: "kafka", Field: "cluster", Message: err.Error()}
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(c.topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil && len(resp.Topics) == 1 {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	switch {
	case err == nil:
		return cl, nil
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		err = &ConfigError{Type: "kafka", Field: "topic", Message: fmt.Sprintf("topic %s does not exist on the cluster (create it first)", c.topic)}
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		err = &ConfigError{Type: "kafka", Field: "topic", Message: fmt.Sprintf("not authorized to write topic %s", c.topic)}
	default:
		err = fmt.Errorf("kafka sink: metadata of %s: %w", c.topic, err)
	}
	cl.Close()
	return nil, err
}

func probeKafka(ctx context.Context, spec Spec, env Env) error {
	c, err := parseKafka(spec, env)
	if err != nil {
		return err
	}
	cl, err := kafkaConnect(ctx, c, env)
	if err != nil {
		return err
	}
	cl.Close()
	return nil
}

// kafkaSink is the "kafka" sink: one Kafka record per result row (per
// batch for formats that frame batches) on a topic of a registered
// cluster. At-least-once, it produces with the idempotent producer and
// waits for every record's acknowledgement. Exactly-once (kafkaTxnSink),
// each batch is one transaction that also commits the batch's source
// offsets, and the job resumes from those.
type kafkaSink struct {
	cfg kafkaConfig
	cl  *kgo.Client

	guard closeGuard
	recs  []*kgo.Record // reused between writes
}

// kafkaTxnSink is the exactly-once kafka sink.
type kafkaTxnSink struct {
	*kafkaSink
	job, topic string // the job and the source topic its offsets are for
	txnID      string
}

var (
	_ Sink        = (*kafkaSink)(nil)
	_ OffsetStore = (*kafkaTxnSink)(nil)
)

func openKafka(ctx context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parseKafka(spec, env)
	if err != nil {
		return nil, err
	}
	if c.keyColumn != "" && c.key == nil {
		return nil, &ConfigError{Type: "kafka", Field: "key", Message: "the output's format is unknown, so no key can be read"}
	}
	// The source offsets are committed by topic name: from version 6 of
	// TxnOffsetCommit (10 of OffsetFetch) Kafka names topics by id, and
	// the source topic may live on another cluster, where it has none.
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(kmsg.TxnOffsetCommit.Int16(), 5)
	versions.SetMaxKeyVersion(kmsg.OffsetFetch.Int16(), 9)
	opts := []kgo.Opt{kgo.ProducerBatchCompression(c.compression), kgo.RecordRetries(10), kgo.MaxVersions(versions)}
	if c.key == nil {
		// Without keys, fill one partition's batch at a time.
		opts = append(opts, kgo.RecordPartitioner(kgo.UniformBytesPartitioner(1<<20, true, true, nil)))
	}
	txn := env.ExactlyOnce
	if txn {
		if env.Job == "" || env.Topic == "" {
			return nil, Permanent(errors.New("kafka sink: exactly-once needs the job and its source topic"))
		}
		if err := kafkaSameCluster(ctx, c, env); err != nil {
			return nil, err
		}
		opts = append(opts, kgo.TransactionalID(kafkaTransactionalID(env.Job, cmp.Or(env.Task, "all"))),
			kgo.TransactionTimeout(c.txnTimeout))
	}
	cl, err := kafkaConnect(ctx, c, env, opts...)
	if err != nil {
		return nil, err
	}
	s := &kafkaSink{cfg: c, cl: cl, guard: newCloseGuard()}
	if !txn {
		return s, nil
	}
	// Taking the transactional id fences a previous instance of this task
	// and aborts its open transaction, so that StoredOffsets, read next,
	// sees no offsets pending in one.
	if _, _, err := cl.ProducerID(ctx); err != nil {
		_ = s.Close(ctx)
		return nil, fmt.Errorf("kafka sink: initialise the transactional producer: %w", err)
	}
	return &kafkaTxnSink{kafkaSink: s, job: env.Job, topic: env.Topic, txnID: kafkaTransactionalID(env.Job, cmp.Or(env.Task, "all"))}, nil
}

// kafkaSameCluster checks that the sink writes to the cluster the job
// reads: a transaction can commit source offsets only on the cluster that
// holds the source topic.
func kafkaSameCluster(ctx context.Context, c kafkaConfig, env Env) error {
	if c.cluster == "" || env.KafkaCluster == nil {
		return nil
	}
	src, err := env.KafkaCluster(ctx, env.Tenant, "")
	if err != nil {
		return fmt.Errorf("kafka sink: the tenant's cluster: %w", err)
	}
	dst, err := env.KafkaCluster(ctx, env.Tenant, c.cluster)
	if err != nil {
		return &ConfigError{Type: "kafka", Field: "cluster", Message: err.Error()}
	}
	if !slices.Equal(src.Bootstrap, dst.Bootstrap) {
		return &ConfigError{Type: "kafka", Field: "cluster", Message: fmt.Sprintf("exactly-once writes to the cluster the job reads (a Kafka transaction commits the source offsets there), not to %s: leave cluster unset, or use at-least-once", c.cluster)}
	}
	return nil
}

// records turns a batch into Kafka records (reusing s.recs).
func (s *kafkaSink) records(b *Batch) ([]*kgo.Record, error) {
	recs := s.recs[:0]
	// The producer keeps the values until the records are acknowledged,
	// and the batch's memory is reused after Write: copy them, into one
	// buffer, and the records into one slab (the producer owns them until
	// Write returns, so neither can be reused).
	size := 0
	for i := range b.Records {
		size += len(b.Records[i].Value)
	}
	buf := make([]byte, 0, size)
	slab := make([]kgo.Record, len(b.Records))
	for i := range b.Records {
		r := &b.Records[i]
		start := len(buf)
		buf = append(buf, r.Value...)
		kr := &slab[i]
		kr.Value, kr.Headers = buf[start:len(buf):len(buf)], s.cfg.headers
		if s.cfg.key != nil {
			k, err := s.cfg.key.text(r.Value)
			if err != nil {
				return nil, Permanent(fmt.Errorf("kafka sink: key of record %d of batch %s: %w", i, b.ID, err))
			}
			if k != nil {
				kr.Key = append([]byte(nil), k...) // k views the record or the reader's scratch
			}
		}
		recs = append(recs, kr)
	}
	s.recs = recs
	return recs, nil
}

// Write produces the batch's records and waits until every one is
// acknowledged by all in-sync replicas.
func (s *kafkaSink) Write(ctx context.Context, b *Batch) error {
	ctx, done, err := s.guard.begin(ctx, "kafka")
	if err != nil {
		return err
	}
	defer done()
	recs, err := s.records(b)
	if err != nil {
		return err
	}
	if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return s.error("produce batch "+b.ID, err)
	}
	return nil
}

// Write produces the batch and commits its source offsets in one
// transaction: a reader with isolation.level=read_committed sees the
// batch's records if and only if the offsets after it are committed.
func (s *kafkaTxnSink) Write(ctx context.Context, b *Batch) error {
	ctx, done, err := s.guard.begin(ctx, "kafka")
	if err != nil {
		return err
	}
	defer done()
	recs, err := s.records(b)
	if err != nil || len(recs) == 0 {
		// An empty batch commits nothing: its offsets are committed with
		// the next batch, and records re-read after a restart before
		// then produce nothing again.
		return err
	}
	if err := s.cl.BeginTransaction(); err != nil {
		return s.error("begin a transaction", err)
	}
	err = s.cl.ProduceSync(ctx, recs...).FirstErr()
	if err == nil {
		err = s.commitOffsets(ctx, b.Offsets, b.Meta)
	}
	if err == nil {
		err = s.cl.EndTransaction(ctx, kgo.TryCommit)
	}
	if err != nil {
		// A failed transaction leaves the producer unusable until its
		// buffered records are gone and the transaction is aborted.
		if abortErr := s.abort(ctx); abortErr != nil {
			err = errors.Join(err, abortErr)
		}
		return s.error("transaction of batch "+b.ID, err)
	}
	return nil
}

// abort drops whatever the producer buffers and aborts its transaction,
// so that the next Write starts clean.
func (s *kafkaTxnSink) abort(ctx context.Context) error {
	if err := s.cl.AbortBufferedRecords(ctx); err != nil {
		return err
	}
	return s.cl.EndTransaction(ctx, kgo.TryAbort) // nil when none is open
}

// commitOffsets adds the source offsets to the open transaction, under
// the sink's offsets group. The group has no members: the commit is the
// standalone kind (generation -1), as with Kafka's own
// sendOffsetsToTransaction for a consumer outside a group.
func (s *kafkaTxnSink) commitOffsets(ctx context.Context, offsets map[int32]int64, meta map[int32]string) error {
	if len(offsets) == 0 {
		return nil
	}
	id, epoch, err := s.cl.ProducerID(ctx)
	if err != nil {
		return err
	}
	group := kafkaOffsetsGroup(s.job)
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = s.txnID, id, epoch, group
	addResp, err := add.RequestWith(ctx, s.cl)
	if err == nil {
		err = kerr.ErrorForCode(addResp.ErrorCode)
	}
	if err != nil {
		return fmt.Errorf("add offsets to the transaction: %w", err)
	}
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = add.TransactionalID, group, id, epoch
	req.Generation, req.MemberID = -1, ""
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = s.topic
	for _, p := range slices.Sorted(maps.Keys(offsets)) {
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = p, offsets[p], -1
		if m, ok := meta[p]; ok {
			rp.Metadata = &m
		}
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, s.cl)
	if err != nil {
		return fmt.Errorf("commit offsets in the transaction: %w", err)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("commit offset of partition %d in the transaction: %w", p.Partition, err)
			}
		}
	}
	return nil
}

// StoredOffsets reads the offsets the sink's transactions committed,
// waiting out any transaction still being decided.
func (s *kafkaTxnSink) StoredOffsets(ctx context.Context) (map[int32]int64, map[int32]string, error) {
	group := kafkaOffsetsGroup(s.job)
	adm := kadm.NewClient(s.cl)
	for attempt := 0; ; attempt++ {
		resp, err := adm.FetchOffsets(kadm.RequireStable(ctx), group)
		if err == nil {
			err = resp.Error()
		}
		switch {
		case err == nil:
			out, meta := map[int32]int64{}, map[int32]string{}
			for p, o := range resp[s.topic] {
				if o.At >= 0 {
					out[p] = o.At
					if o.Metadata != "" {
						meta[p] = o.Metadata
					}
				}
			}
			return out, meta, nil
		case errors.Is(err, kerr.GroupIDNotFound):
			return map[int32]int64{}, nil, nil // nothing committed yet
		case !kerr.IsRetriable(err) || attempt >= 120:
			return nil, nil, fmt.Errorf("kafka sink: offsets of %s: %w", group, err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, errors.Join(ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// error wraps a client error; those a retry cannot fix (a fenced
// producer, a record too large, missing authorisation) are Permanent.
func (s *kafkaSink) error(what string, err error) error {
	out := fmt.Errorf("kafka sink: %s: %w", what, err)
	for _, perm := range []error{kerr.ProducerFenced, kerr.InvalidProducerEpoch, kerr.TransactionalIDAuthorizationFailed,
		kerr.TopicAuthorizationFailed, kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord} {
		if errors.Is(err, perm) {
			return Permanent(out)
		}
	}
	return out
}

// Close ends a Write in progress and closes the client. A transaction it
// leaves open is aborted by the next instance of the task (which takes
// over the transactional id) or by the broker after transactionTimeout.
func (s *kafkaSink) Close(context.Context) error {
	if s.guard.close() {
		s.cl.Close()
	}
	return nil
}
