package job

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers of a dead-lettered record, besides the original record's own.
const (
	HeaderJob       = "sluice-job"
	HeaderReason    = "sluice-reason"
	HeaderError     = "sluice-error"
	HeaderTopic     = "sluice-source-topic"
	HeaderPartition = "sluice-source-partition"
	HeaderOffset    = "sluice-source-offset"
)

// maxErrorHeader bounds the error text a dead letter carries.
const maxErrorHeader = 1024

// kafkaDeadLetters writes bad records to the tenant's dead-letter topic on
// the source cluster, with the original key, value and headers and headers
// saying why. The topic is created (one partition) when it is missing.
type kafkaDeadLetters struct {
	job, topic string
	cl         *kgo.Client
	adm        *kadm.Client

	once      sync.Once
	createErr error
}

func (d *kafkaDeadLetters) DeadLetter(ctx context.Context, rec *kgo.Record, reason string, cause error) error {
	msg := cause.Error()
	if len(msg) > maxErrorHeader {
		msg = msg[:maxErrorHeader]
	}
	out := &kgo.Record{
		Topic: d.topic,
		Key:   rec.Key,
		Value: rec.Value,
		Headers: append(append([]kgo.RecordHeader(nil), rec.Headers...),
			kgo.RecordHeader{Key: HeaderJob, Value: []byte(d.job)},
			kgo.RecordHeader{Key: HeaderReason, Value: []byte(reason)},
			kgo.RecordHeader{Key: HeaderError, Value: []byte(msg)},
			kgo.RecordHeader{Key: HeaderTopic, Value: []byte(rec.Topic)},
			kgo.RecordHeader{Key: HeaderPartition, Value: []byte(strconv.Itoa(int(rec.Partition)))},
			kgo.RecordHeader{Key: HeaderOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		),
	}
	err := d.cl.ProduceSync(ctx, out).FirstErr()
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		if err = d.create(ctx); err == nil {
			err = d.cl.ProduceSync(ctx, out).FirstErr()
		}
	}
	return err
}

func (d *kafkaDeadLetters) create(ctx context.Context) error {
	d.once.Do(func() {
		resp, err := d.adm.CreateTopic(ctx, 1, -1, nil, d.topic)
		if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			err = resp.Err
		}
		d.createErr = err
	})
	return d.createErr
}
