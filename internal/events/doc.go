// Package events is Sluice's event log: what components observed and did,
// in their own words. The catalog's reconciler reports a topic missing, a
// partition count changed outside Sluice and adopted, config drift, a
// cluster unreachable or recovered; self-healing and reliable update report
// what they did about it. Events are stored (the API lists them at
// GET /v1/events) and offered in process to other components through
// [Log.Subscribe].
//
// This is not the audit log, which records who changed what and why.
//
// # Ids are a cursor
//
// The store assigns each event an id, increasing and never reused (pruned
// ids included). Ids also become visible in increasing order: SQLite has one
// writer at a time, and on PostgreSQL every append takes a transaction-scoped
// advisory lock before its id is drawn and holds it until commit. So a
// reader that has seen every event up to id N and asks for those after N
// misses nothing, whatever was being appended concurrently, by this process
// or another. Ids may have holes (an identity value drawn by a transaction
// that rolled back); never infer a missing event from a gap.
//
// [Log.List] returns events in id order, which is append order (and Time
// order unless callers set Time themselves); pass the last id of a page as
// [Filter.AfterID] to get the next one.
//
// # Subscriptions
//
// [Log.Subscribe] delivers events appended through the same *Log after the
// subscription began, once their row is committed. Events appended by other
// processes are not delivered; read them with List.
//
// Each subscriber has a bounded buffer. Publishing never waits: when a
// subscriber's buffer is full the event is dropped for that subscriber and
// counted in [Log.Dropped], so a slow consumer never holds up Append nor the
// other subscribers. Events from Append are delivered in id order; an event
// from [Log.AppendTx] is delivered when its caller publishes it after
// commit, so it can arrive after events with higher ids.
//
// A consumer that must not miss anything treats its subscription as a
// wake-up call and the log as the truth: it keeps the last id it handled and,
// on each event received (and on start), reads List with AfterID set to that
// id until a page comes back short. Drops and delivery order then do not
// matter, because of the cursor property above.
//
// # Transactions
//
// A component that changes state and reports it records both atomically
// with AppendTx inside its transaction, and publishes after the commit:
//
//	var publish func()
//	err := st.InTx(ctx, func(tx *store.Tx) error {
//		if err := saveTopic(ctx, tx, t); err != nil {
//			return err
//		}
//		_, p, err := evlog.AppendTx(ctx, tx, events.Event{Kind: "topic.partitions_adopted", ...})
//		publish = p // InTx may run fn again: keep the last attempt's
//		return err
//	})
//	if err == nil {
//		publish()
//	}
//
// On PostgreSQL the append lock is held from AppendTx to the end of the
// transaction, serialising appends; append last, just before committing.
//
// # Retention
//
// The table grows with every event; [Log.Prune] deletes those older than a
// cutoff and should be called periodically.
package events
