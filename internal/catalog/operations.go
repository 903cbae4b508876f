package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicehq/sluice/internal/events"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/store"
)

// OpKind is the kind of a Kafka operation.
type OpKind string

const (
	OpCreateTopic   OpKind = "topic.create"
	OpSetPartitions OpKind = "topic.set_partitions"
	OpSetConfigs    OpKind = "topic.set_configs"
	OpDeleteTopic   OpKind = "topic.delete"
)

// OpState is where an operation is.
type OpState string

const (
	OpPending OpState = "pending"
	OpDone    OpState = "done"
	OpFailed  OpState = "failed"
)

// OpParams are what an operation asks of Kafka.
type OpParams struct {
	Partitions        int32             `json:"partitions,omitempty"`
	ReplicationFactor int16             `json:"replicationFactor,omitempty"`
	Configs           map[string]string `json:"configs,omitempty"`
}

// Operation is one Kafka operation, recorded before it is applied.
type Operation struct {
	ID         string    `json:"id"`
	Kind       OpKind    `json:"kind" enum:"topic.create,topic.set_partitions,topic.set_configs,topic.delete"`
	Cluster    string    `json:"cluster"`
	Topic      string    `json:"topic"`
	Tenant     string    `json:"tenant"`
	Params     OpParams  `json:"params"`
	State      OpState   `json:"state" enum:"pending,done,failed"`
	Error      string    `json:"error,omitempty" doc:"Why the last attempt failed."`
	Attempts   int       `json:"attempts"`
	LeaseUntil time.Time `json:"leaseUntil" doc:"A pending operation is left to the process applying it until then; after that the reconciler settles it."`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

const opColumns = `id, kind, cluster, topic, tenant, params, state, error, attempts, lease_until, created_at, updated_at`

func scanOp(r scanner) (Operation, error) {
	var op Operation
	var params string
	err := r.Scan(&op.ID, &op.Kind, &op.Cluster, &op.Topic, &op.Tenant, &params, &op.State, &op.Error,
		&op.Attempts, &op.LeaseUntil, &op.CreatedAt, &op.UpdatedAt)
	if err != nil {
		return op, err
	}
	if err := json.Unmarshal([]byte(params), &op.Params); err != nil {
		return op, fmt.Errorf("operation %s: stored params: %w", op.ID, err)
	}
	return op, nil
}

func (s *Service) newOp(kind OpKind, cluster, topic, tenant string, p OpParams) Operation {
	now := s.now().UTC()
	return Operation{ID: uuid.NewString(), Kind: kind, Cluster: cluster, Topic: topic, Tenant: tenant, Params: p,
		State: OpPending, LeaseUntil: now.Add(s.cfg.OperationLease), CreatedAt: now, UpdatedAt: now}
}

// insertOp records op, refusing when another operation on the same topic is
// still pending: operations on one topic are applied one at a time.
func insertOp(ctx context.Context, q store.Querier, op Operation) error {
	var pending int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM kafka_operations WHERE cluster = ? AND topic = ? AND state = ?`,
		op.Cluster, op.Topic, OpPending).Scan(&pending); err != nil {
		return fmt.Errorf("check pending operations: %w", err)
	}
	if pending > 0 {
		return conflict("another operation on topic %q is in progress; retry when it has finished (GET /v1/operations?state=pending)", op.Topic)
	}
	params, err := json.Marshal(op.Params)
	if err != nil {
		return fmt.Errorf("encode operation params: %w", err)
	}
	_, err = q.Exec(ctx, `INSERT INTO kafka_operations (`+opColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		op.ID, op.Kind, op.Cluster, op.Topic, op.Tenant, string(params), op.State, op.Error, op.Attempts,
		op.LeaseUntil.UTC(), op.CreatedAt.UTC(), op.UpdatedAt.UTC())
	if err != nil {
		return fmt.Errorf("record operation %s on %s: %w", op.Kind, op.Topic, err)
	}
	return nil
}

func setOpState(ctx context.Context, q store.Querier, op Operation, state OpState, errMsg string, lease, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE kafka_operations SET state = ?, error = ?, attempts = attempts + 1, lease_until = ?, updated_at = ?
		WHERE id = ?`, state, errMsg, lease.UTC(), now.UTC(), op.ID)
	if err != nil {
		return fmt.Errorf("mark operation %s %s: %w", op.ID, state, err)
	}
	return nil
}

// OpFilter narrows ListOperations.
type OpFilter struct {
	State  OpState
	Tenant string
	Limit  int
}

// ListOperations returns recorded operations, newest first.
func (s *Service) ListOperations(ctx context.Context, f OpFilter) ([]Operation, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT `+opColumns+` FROM kafka_operations
		WHERE (? = '' OR state = ?) AND (? = '' OR tenant = ?) ORDER BY created_at DESC, id LIMIT ?`,
		f.State, f.State, f.Tenant, f.Tenant, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		op, err := scanOp(rows)
		if err != nil {
			return nil, fmt.Errorf("list operations: %w", err)
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return out, nil
}

// apply makes Kafka match op and then records the outcome. It is used both
// right after an operation is recorded and by the reconciler for operations
// a dead process left pending, so every step is idempotent: it first looks at
// what Kafka has.
//
// A refusal by Kafka (an error code in its response) undoes the records and
// fails the operation. Anything else — a timeout, a broken connection — may or
// may not have reached Kafka, so the operation stays pending for the
// reconciler, which will look again.
func (s *Service) apply(ctx context.Context, op Operation) error {
	if s.beforeKafka != nil {
		if err := s.beforeKafka(op); err != nil {
			return err
		}
	}
	c, err := getCluster(ctx, s.db, op.Cluster)
	if err != nil {
		return err
	}
	admin, err := s.admins.get(c)
	if err != nil {
		return s.retryLater(ctx, op, err)
	}
	kctx, cancel := context.WithTimeout(ctx, s.cfg.KafkaTimeout)
	defer cancel()
	actual, err := s.execute(kctx, admin, op)
	if err != nil {
		var kafkaErr *kerr.Error
		if errors.As(err, &kafkaErr) || errors.Is(err, kafkaconn.ErrPartitionDecrease) {
			return s.undo(ctx, op, err)
		}
		return s.retryLater(ctx, op, err)
	}
	return s.finish(ctx, op, actual)
}

// execute performs op on Kafka unless Kafka already reflects it, and returns
// the topic as Kafka then has it.
func (s *Service) execute(ctx context.Context, admin Admin, op Operation) (kafkaconn.Topic, error) {
	current, err := admin.Topics(ctx, op.Topic)
	if err != nil {
		return kafkaconn.Topic{}, err
	}
	t, exists := current[op.Topic]
	switch op.Kind {
	case OpCreateTopic:
		if exists {
			// Created by an earlier attempt whose outcome was not recorded.
			return t, nil
		}
		if err := admin.CreateTopic(ctx, op.Topic, op.Params.Partitions, op.Params.ReplicationFactor, op.Params.Configs); err != nil && !errors.Is(err, kafkaconn.ErrTopicExists) {
			return t, err
		}
	case OpSetPartitions:
		if !exists {
			return t, &kerr.Error{Message: "UNKNOWN_TOPIC_OR_PARTITION", Code: kerr.UnknownTopicOrPartition.Code,
				Description: fmt.Sprintf("topic %s does not exist on the cluster", op.Topic)}
		}
		if t.Partitions >= op.Params.Partitions {
			return t, nil
		}
		if err := admin.SetPartitions(ctx, op.Topic, op.Params.Partitions); err != nil {
			return t, err
		}
	case OpSetConfigs:
		if !exists {
			return t, &kerr.Error{Message: "UNKNOWN_TOPIC_OR_PARTITION", Code: kerr.UnknownTopicOrPartition.Code,
				Description: fmt.Sprintf("topic %s does not exist on the cluster", op.Topic)}
		}
		if err := admin.SetTopicConfigs(ctx, op.Topic, op.Params.Configs); err != nil {
			return t, err
		}
	case OpDeleteTopic:
		if !exists {
			return t, nil
		}
		if err := admin.DeleteTopic(ctx, op.Topic); err != nil && !errors.Is(err, kafkaconn.ErrUnknownTopic) {
			return t, err
		}
		return t, nil
	default:
		return t, fmt.Errorf("unknown operation kind %q", op.Kind)
	}
	after, err := admin.Topics(ctx, op.Topic)
	if err != nil {
		return t, err
	}
	return after[op.Topic], nil
}

// finish records a successful operation.
func (s *Service) finish(ctx context.Context, op Operation, actual kafkaconn.Topic) error {
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		switch op.Kind {
		case OpCreateTopic, OpSetPartitions, OpSetConfigs:
			t, _, err := getTopic(ctx, tx, op.Cluster, op.Topic)
			if err != nil {
				return err
			}
			added := int(actual.Partitions - t.Partitions)
			if op.Kind == OpCreateTopic {
				added = int(actual.Partitions)
			}
			t.State, t.Partitions, t.UpdatedAt = TopicActive, actual.Partitions, now
			if actual.ReplicationFactor > 0 {
				t.ReplicationFactor = actual.ReplicationFactor
			}
			if op.Kind == OpSetConfigs {
				for k, v := range op.Params.Configs {
					t.Configs[k] = v
				}
			}
			if err := updateTopic(ctx, tx, t); err != nil {
				return err
			}
			// Count the new partitions now so placement does not pile
			// tenants onto this cluster before its next probe.
			if _, err := tx.Exec(ctx, `UPDATE clusters SET observed_partitions = observed_partitions + ? WHERE name = ?`,
				added, op.Cluster); err != nil {
				return fmt.Errorf("count new partitions: %w", err)
			}
			if op.Kind == OpCreateTopic {
				if err := setTenantState(ctx, tx, op.Tenant, Ready, now); err != nil {
					return err
				}
			}
		case OpDeleteTopic:
			if err := deleteTenantRows(ctx, tx, op.Tenant); err != nil {
				return err
			}
		}
		return setOpState(ctx, tx, op, OpDone, "", now, now)
	})
}

// undo puts the records back as they were before op, which Kafka refused, and
// returns the refusal as an error for the caller.
func (s *Service) undo(ctx context.Context, op Operation, cause error) error {
	now := s.now().UTC()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		switch op.Kind {
		case OpCreateTopic:
			if err := deleteTenantRows(ctx, tx, op.Tenant); err != nil {
				return err
			}
		case OpDeleteTopic:
			if _, err := tx.Exec(ctx, `UPDATE topics SET state = ?, updated_at = ? WHERE cluster = ? AND name = ?`,
				TopicActive, now, op.Cluster, op.Topic); err != nil {
				return fmt.Errorf("restore topic %s: %w", op.Topic, err)
			}
			if err := setTenantState(ctx, tx, op.Tenant, Ready, now); err != nil {
				return err
			}
		}
		return setOpState(ctx, tx, op, OpFailed, cause.Error(), now, now)
	})
	if err != nil {
		return err
	}
	return &Error{Code: Conflict, Message: fmt.Sprintf("Kafka cluster %q refused %s of topic %q", op.Cluster, op.Kind, op.Topic), Err: cause}
}

// retryLater leaves op pending for the reconciler and tells the caller so.
func (s *Service) retryLater(ctx context.Context, op Operation, cause error) error {
	now := s.now().UTC()
	if err := setOpState(ctx, s.db, op, OpPending, cause.Error(), now.Add(s.cfg.RetryAfter), now); err != nil {
		return err
	}
	return unavailable(cause, "Kafka cluster %q did not complete %s of topic %q; the operation is recorded (id %s) and the reconciler will finish it", op.Cluster, op.Kind, op.Topic, op.ID)
}

// RecoverOperations settles every pending operation whose lease has run out:
// those a dead process left behind, and those whose Kafka call failed and
// awaits a retry. Each is claimed first, so two servers never apply one
// operation at the same time. It returns how many it settled.
func (s *Service) RecoverOperations(ctx context.Context) (int, error) {
	now := s.now().UTC()
	rows, err := s.db.Query(ctx, `SELECT `+opColumns+` FROM kafka_operations WHERE state = ? AND lease_until < ?
		ORDER BY created_at LIMIT 100`, OpPending, now)
	if err != nil {
		return 0, fmt.Errorf("find pending operations: %w", err)
	}
	var ops []Operation
	for rows.Next() {
		op, err := scanOp(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("find pending operations: %w", err)
		}
		ops = append(ops, op)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find pending operations: %w", err)
	}
	settled := 0
	for _, op := range ops {
		if ctx.Err() != nil {
			return settled, ctx.Err()
		}
		res, err := s.db.Exec(ctx, `UPDATE kafka_operations SET lease_until = ? WHERE id = ? AND state = ? AND lease_until = ?`,
			now.Add(s.cfg.OperationLease), op.ID, OpPending, op.LeaseUntil.UTC())
		if err != nil {
			return settled, fmt.Errorf("claim operation %s: %w", op.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another process claimed it
		}
		err = s.apply(ctx, op)
		outcome := "finished"
		switch CodeOf(err) {
		case 0:
			if err != nil {
				return settled, err
			}
		case Conflict:
			outcome = "undone"
		default:
			s.log.Warn("pending Kafka operation still failing", "op", op.ID, "kind", op.Kind, "topic", op.Topic, "err", err)
			continue
		}
		settled++
		s.emit(ctx, events.Event{Kind: "operation.recovered", Cluster: op.Cluster, Tenant: op.Tenant, Topic: op.Topic,
			Message: fmt.Sprintf("%s of topic %s, left pending by an earlier attempt, was %s", op.Kind, op.Topic, outcome),
			Details: map[string]string{"operation": op.ID, "outcome": outcome}})
	}
	return settled, nil
}
