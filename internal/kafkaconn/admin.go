package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Errors an Admin returns for the outcomes callers act on. The returned
// error wraps one of these, the Kafka error (a *kerr.Error, so errors.Is
// with kerr.TopicAlreadyExists and the like works too) and the broker's
// message, and names the operation, topic and cluster.
var (
	// ErrTopicExists: CreateTopic of a topic that already exists.
	ErrTopicExists = errors.New("topic already exists")
	// ErrUnknownTopic: the topic does not exist.
	ErrUnknownTopic = errors.New("unknown topic")
	// ErrPartitionDecrease: SetPartitions below the current count; Kafka
	// cannot remove partitions.
	ErrPartitionDecrease = errors.New("kafka cannot decrease a topic's partition count")
)

// Admin administers one Kafka cluster. It is safe for concurrent use. Every
// method is bounded by its context and by the retry limits of Options
// (RetryTimeout, RequestTimeoutOverhead), so none waits forever on an
// unreachable cluster. After Close every method fails.
type Admin struct {
	cl        *kgo.Client
	adm       *kadm.Client
	addr      string // the bootstrap list, for errors
	closeOnce sync.Once
}

// Topic describes one topic.
type Topic struct {
	Name       string
	Partitions int32
	// ReplicationFactor is the largest replica count among the topic's
	// partitions; they agree except during a reassignment.
	ReplicationFactor int16
	// Configs holds only the topic's own overrides (configs set at
	// creation or with SetTopicConfigs), not broker or cluster defaults.
	// It is empty, not nil, when there are none.
	Configs map[string]string
}

// Usage is a snapshot of a cluster's size.
type Usage struct {
	// Brokers is the number of live brokers metadata lists.
	Brokers int
	// Topics and Partitions count the non-internal topics and their
	// partitions.
	Topics     int
	Partitions int
	// Bytes is the total size of every partition replica in every log
	// directory of every broker, internal topics included: the disk
	// used, so with replication factor 3 each byte produced counts three
	// times. It shrinks when retention deletes segments, so the rate
	// between two probes can be negative.
	Bytes int64
}

// NewAdmin returns an Admin for the cluster c describes. Like NewClient it
// does not connect; use Ping to check the cluster answers. Close it when
// done.
func NewAdmin(c Config) (*Admin, error) {
	cl, err := NewClient(c)
	if err != nil {
		return nil, err
	}
	return &Admin{cl: cl, adm: kadm.NewClient(cl), addr: strings.Join(c.Bootstrap, ",")}, nil
}

// Close closes the connections. It is safe to call more than once and
// concurrently with other methods, which then fail.
func (a *Admin) Close() { a.closeOnce.Do(a.cl.Close) }

// Ping makes one round trip to the cluster (a Metadata request that names
// no topics) and returns nil if some broker answered. It tries each known
// broker once, then each bootstrap address; the error names the cluster and
// carries the last failure (unreachable address, TLS or SASL failure).
// A refused connection fails at once; a broker that accepts connections but
// never answers takes about twice RequestTimeoutOverhead unless ctx ends
// sooner.
func (a *Admin) Ping(ctx context.Context) error {
	if err := a.cl.Ping(ctx); err != nil {
		return fmt.Errorf("ping kafka cluster %s: %w", a.addr, err)
	}
	return nil
}

// CreateTopic creates topic name with the given partition count,
// replication factor and topic configs (-1 for either count means the
// broker's default). A topic that exists already gives ErrTopicExists; the
// configs of an existing topic are not compared or changed. It returns when
// the controller has created the topic (see the package doc on
// consistency).
func (a *Admin) CreateTopic(ctx context.Context, name string, partitions int32, replicationFactor int16, configs map[string]string) error {
	var cfgs map[string]*string
	if len(configs) > 0 {
		cfgs = make(map[string]*string, len(configs))
		for k, v := range configs {
			cfgs[k] = kadm.StringPtr(v)
		}
	}
	resps, err := a.adm.CreateTopics(ctx, partitions, replicationFactor, cfgs, name)
	if err != nil {
		return a.errorf("create topic", name, "%w", err)
	}
	r, ok := resps[name]
	switch {
	case !ok:
		return a.errorf("create topic", name, "the response does not mention the topic")
	case r.Err == nil:
		return nil
	case errors.Is(r.Err, kerr.TopicAlreadyExists):
		return a.errorf("create topic", name, "%w: %w", ErrTopicExists, kafkaErr(r.Err, r.ErrMessage))
	default:
		return a.errorf("create topic", name, "%w", kafkaErr(r.Err, r.ErrMessage))
	}
}

// SetPartitions raises topic name's partition count to total (kadm's
// UpdatePartitions, which sets the total; CreatePartitions would add). A
// topic that has total partitions already is left alone and nil returned,
// so the call is idempotent. A total below the current count gives
// ErrPartitionDecrease without asking Kafka to change anything, and a topic
// that does not exist gives ErrUnknownTopic.
func (a *Admin) SetPartitions(ctx context.Context, name string, total int32) error {
	const op = "set partitions of topic"
	if total < 1 {
		// Every topic has at least one partition.
		return a.errorf(op, name, "%w: asked for %d", ErrPartitionDecrease, total)
	}
	current, err := a.partitionCount(ctx, op, name)
	if err != nil {
		return err
	}
	switch {
	case current == total:
		return nil
	case current > total:
		return a.errorf(op, name, "%w: it has %d, asked for %d", ErrPartitionDecrease, current, total)
	}
	resps, err := a.adm.UpdatePartitions(ctx, int(total), name)
	if err != nil {
		return a.errorf(op, name, "%w", err)
	}
	r, ok := resps[name]
	switch {
	case !ok:
		return a.errorf(op, name, "the response does not mention the topic")
	case r.Err == nil:
		// The controller has the new count; wait (briefly) for the
		// brokers' metadata to show it, so that a caller reading the
		// topic right after sees what it asked for.
		a.settledPartitionCount(ctx, op, name, total)
		return nil
	case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
		return a.errorf(op, name, "%w: %w", ErrUnknownTopic, kafkaErr(r.Err, r.ErrMessage))
	case errors.Is(r.Err, kerr.InvalidPartitions):
		// The count we read may have been stale, or another caller
		// got there first: the controller knows better than the
		// broker we read from. Look again, briefly, before calling it
		// a failure.
		switch now := a.settledPartitionCount(ctx, op, name, total); {
		case now == total:
			return nil
		case now > total:
			return a.errorf(op, name, "%w: it has %d, asked for %d", ErrPartitionDecrease, now, total)
		}
	}
	return a.errorf(op, name, "%w", kafkaErr(r.Err, r.ErrMessage))
}

// settledPartitionCount re-reads the partition count of topic name until
// it reaches at least total, for at most about a second (brokers apply the
// controller's changes within milliseconds) or until ctx ends. It returns
// the last count read, or -1 if none could be read.
func (a *Admin) settledPartitionCount(ctx context.Context, op, name string, total int32) int32 {
	count := int32(-1)
	for range 10 {
		if n, err := a.partitionCount(ctx, op, name); err == nil {
			count = n
			if n >= total {
				break
			}
		}
		select {
		case <-ctx.Done():
			return count
		case <-time.After(100 * time.Millisecond):
		}
	}
	return count
}

// partitionCount reads the partition count of topic name from a broker.
func (a *Admin) partitionCount(ctx context.Context, op, name string) (int32, error) {
	resp, err := a.metadata(ctx, []string{name})
	if err != nil {
		return 0, a.errorf(op, name, "read metadata: %w", err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != name {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if absent(err) {
				return 0, a.errorf(op, name, "%w: %w", ErrUnknownTopic, err)
			}
			return 0, a.errorf(op, name, "read metadata: %w", err)
		}
		return int32(len(t.Partitions)), nil
	}
	return 0, a.errorf(op, name, "read metadata: the response does not mention the topic")
}

// DeleteTopic deletes topic name; one that does not exist gives
// ErrUnknownTopic. Kafka removes the data in the background.
func (a *Admin) DeleteTopic(ctx context.Context, name string) error {
	resps, err := a.adm.DeleteTopics(ctx, name)
	if err != nil {
		return a.errorf("delete topic", name, "%w", err)
	}
	r, ok := resps[name]
	switch {
	case !ok:
		return a.errorf("delete topic", name, "the response does not mention the topic")
	case r.Err == nil:
		return nil
	case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
		return a.errorf("delete topic", name, "%w: %w", ErrUnknownTopic, kafkaErr(r.Err, r.ErrMessage))
	default:
		return a.errorf("delete topic", name, "%w", kafkaErr(r.Err, r.ErrMessage))
	}
}

// SetTopicConfigs sets each of configs on topic name (an incremental alter:
// other overrides stay as they are). A topic that does not exist gives
// ErrUnknownTopic; an unknown key or a bad value gives Kafka's error
// (errors.Is(err, kerr.InvalidConfig)). Kafka applies all keys or none.
// With no configs it does nothing.
func (a *Admin) SetTopicConfigs(ctx context.Context, name string, configs map[string]string) error {
	const op = "set configs of topic"
	if len(configs) == 0 {
		return nil
	}
	alter := make([]kadm.AlterConfig, 0, len(configs))
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(configs[k])})
	}
	resps, err := a.adm.AlterTopicConfigs(ctx, alter, name)
	if err != nil {
		return a.errorf(op, name, "%w", err)
	}
	r, err := resps.On(name, nil)
	switch {
	case err != nil:
		return a.errorf(op, name, "the response does not mention the topic")
	case r.Err == nil:
		return nil
	case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
		return a.errorf(op, name, "%w: %w", ErrUnknownTopic, kafkaErr(r.Err, r.ErrMessage))
	default:
		return a.errorf(op, name, "%w", kafkaErr(r.Err, r.ErrMessage))
	}
}

// Topics describes the named topics, or with no names every non-internal
// topic. A named topic that does not exist (or whose name Kafka rejects) is
// absent from the map, not an error. It costs one Metadata and one
// DescribeConfigs request, whatever the number of topics.
func (a *Admin) Topics(ctx context.Context, names ...string) (map[string]Topic, error) {
	var request []string // nil asks for every topic
	if len(names) > 0 {
		request = slices.Compact(slices.Sorted(slices.Values(names)))
	}
	resp, err := a.metadata(ctx, request)
	if err != nil {
		return nil, fmt.Errorf("describe topics on kafka cluster %s: read metadata: %w", a.addr, err)
	}
	topics := make(map[string]Topic, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil || request == nil && t.IsInternal {
			continue
		}
		name := *t.Topic
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if absent(err) {
				continue
			}
			return nil, a.errorf("describe topic", name, "read metadata: %w", err)
		}
		var rf int16
		for _, p := range t.Partitions {
			rf = max(rf, int16(len(p.Replicas)))
		}
		topics[name] = Topic{Name: name, Partitions: int32(len(t.Partitions)), ReplicationFactor: rf, Configs: map[string]string{}}
	}
	if len(topics) == 0 {
		return topics, nil
	}

	described, err := a.adm.DescribeTopicConfigs(ctx, slices.Sorted(maps.Keys(topics))...)
	if err != nil {
		return nil, fmt.Errorf("describe topics on kafka cluster %s: describe configs: %w", a.addr, err)
	}
	answered := make(map[string]bool, len(topics))
	for _, rc := range described {
		t, ok := topics[rc.Name]
		if !ok {
			continue
		}
		answered[rc.Name] = true
		if rc.Err != nil {
			if absent(rc.Err) { // deleted since the metadata read
				delete(topics, rc.Name)
				continue
			}
			return nil, a.errorf("describe configs of topic", rc.Name, "%w", kafkaErr(rc.Err, rc.ErrMessage))
		}
		for _, c := range rc.Configs {
			// The top-level entry carries the source that wins; a
			// topic override is DYNAMIC_TOPIC_CONFIG on Kafka and
			// kfake alike, defaults are DEFAULT_CONFIG or
			// *_BROKER_CONFIG.
			if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
				t.Configs[c.Key] = c.MaybeValue()
			}
		}
	}
	for name := range topics {
		if !answered[name] {
			return nil, a.errorf("describe configs of topic", name, "the response does not mention the topic")
		}
	}
	return topics, nil
}

// Usage measures the cluster: brokers, non-internal topics and partitions
// from one Metadata request, Bytes from DescribeLogDirs sent to every
// broker. A broker that fails to answer fails the call rather than giving
// a total that is silently short.
func (a *Admin) Usage(ctx context.Context) (Usage, error) {
	resp, err := a.metadata(ctx, nil)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of kafka cluster %s: read metadata: %w", a.addr, err)
	}
	u := Usage{Brokers: len(resp.Brokers)}
	for _, t := range resp.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if absent(err) { // deleted while metadata was assembled
				continue
			}
			return Usage{}, fmt.Errorf("usage of kafka cluster %s: read metadata of topic %s: %w", a.addr, *t.Topic, err)
		}
		u.Topics++
		u.Partitions += len(t.Partitions)
	}

	dirs, err := a.adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of kafka cluster %s: describe log dirs: %w", a.addr, err)
	}
	var dirErr error
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			dirErr = errors.Join(dirErr, fmt.Errorf("broker %d log dir %s: %w", d.Broker, d.Dir, d.Err))
			return
		}
		// Size sums the partitions. Not TotalBytes: that is the size of
		// the volume on Kafka (kfake reports the partition sum there).
		u.Bytes += d.Size()
	})
	if dirErr != nil {
		return Usage{}, fmt.Errorf("usage of kafka cluster %s: describe log dirs: %w", a.addr, dirErr)
	}
	return u, nil
}

// metadata asks a broker for metadata of the named topics, or of every
// topic when topics is nil. It goes around the client's metadata cache
// (which kadm uses, keeping answers up to 5s old) so the catalog reads
// what the cluster says now, and never asks for topics to be auto-created.
func (a *Admin) metadata(ctx context.Context, topics []string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	if topics != nil {
		req.Topics = make([]kmsg.MetadataRequestTopic, 0, len(topics))
		for _, name := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(name)
			req.Topics = append(req.Topics, rt)
		}
	}
	return req.RequestWith(ctx, a.cl)
}

// absent reports whether a per-topic Kafka error means there is no such
// topic.
func absent(err error) bool {
	return errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.InvalidTopicException)
}

// kafkaErr adds the broker's message, when it sent one, to a Kafka error
// code's error, keeping it errors.Is-able.
func kafkaErr(err error, message string) error {
	if message == "" || strings.Contains(err.Error(), message) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, message)
}

// errorf returns an error naming the operation, topic and cluster.
func (a *Admin) errorf(op, topic, format string, args ...any) error {
	return fmt.Errorf("%s %s on kafka cluster %s: %w", op, topic, a.addr, fmt.Errorf(format, args...))
}
