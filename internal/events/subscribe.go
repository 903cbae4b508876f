package events

import (
	"maps"
	"sync"
)

// Subscribe registers a subscriber with room for buffer undelivered events
// (DefaultBuffer when buffer is 0 or less) and returns its channel and the
// function that ends the subscription.
//
// The channel receives each event appended through l after Subscribe
// returns, once committed. Sends never block: when the buffer is full the
// event is dropped for this subscriber and counted in Dropped; read the
// log with List to catch up (see the package documentation). Each
// subscriber receives its own copy of Details.
//
// cancel stops deliveries and closes the channel; events already buffered
// can still be received. It is safe to call more than once and from any
// goroutine.
func (l *Log) Subscribe(buffer int) (events <-chan Event, cancel func()) {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	ch := make(chan Event, buffer)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, ch)
			close(ch)
			l.mu.Unlock()
		})
	}
}

// Dropped returns how many deliveries have been dropped, over all
// subscribers of l, because a subscriber's buffer was full.
func (l *Log) Dropped() int64 { return l.dropped.Load() }

// publish offers e to every subscriber without waiting for any.
func (l *Log) publish(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		ev := e
		// Subscribers run concurrently; a shared map would let one's
		// writes race with another's reads.
		ev.Details = maps.Clone(e.Details)
		select {
		case ch <- ev:
		default:
			l.dropped.Add(1)
		}
	}
}
