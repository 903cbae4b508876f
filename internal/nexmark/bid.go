// Package nexmark generates the bid stream of the Nexmark benchmark as
// Avro records, so that Sluice's figures can stand beside published
// per-core Nexmark results (Flink's q0–q2 among them).
//
// The generator follows the bid generator of the Nexmark suite as Apache
// Beam and Flink ship it (BidGenerator, PriceGenerator, GeneratorConfig
// with the default configuration):
//
//   - Events are numbered as in Nexmark, in epochs of 50: 1 person, 3
//     auctions, then 46 bids. Only the bids are generated, but each bid
//     keeps the event number it would have had, so that the auction and
//     person ids it refers to follow Nexmark's distributions exactly.
//   - auction: with probability 1/2 (hotAuctionRatio 2) a hot auction, the
//     first of the latest block of 100 auctions; otherwise one of the 100
//     auctions in flight, or up to 10 ahead of the last one. Ids start at
//     1000.
//   - bidder: with probability 3/4 (hotBiddersRatio 4) a hot bidder, the
//     second person of the latest block of 100; otherwise one of the 1000
//     active people, or up to 10 ahead. Ids start at 1000.
//   - price: round(10^(6u) × 100) for u uniform in [0, 1): cents from 100 to
//     100,000,000, log-uniform (Nexmark's PriceGenerator).
//   - channel: with probability 1/2 one of Google, Facebook, Baidu, Apple;
//     otherwise "channel-<i>" for i uniform below 10,000.
//   - extra: padding to make a bid about 100 bytes, as Nexmark's
//     avgBidByteSize: 54 to 81 characters of lower-case letters and spaces.
//   - dateTime: the event time, start + k/eventsPerSecond for the k-th bid.
//
// Deviations from Nexmark: only bids are generated (no persons or
// auctions, so no joins: q0–q2 need only bids); the random sequence is Go's
// PCG rather than java.util.Random, so the values are Nexmark's
// distributions but not its exact numbers; URLs are
// "https://www.nexmark.com/<channel>/item.htm?query=1" rather than
// Nexmark's random path segments; extra is drawn from a fixed random text
// rather than generated character by character; and the event rate counts
// bids only (Nexmark's rate counts all three kinds).
package nexmark

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// BidSchema is the Avro schema of a Nexmark bid.
const BidSchema = `{
  "type": "record",
  "name": "Bid",
  "namespace": "nexmark",
  "doc": "A bid of the Nexmark benchmark's auction system.",
  "fields": [
    {"name": "auction", "type": "long", "doc": "The auction bid on."},
    {"name": "bidder", "type": "long", "doc": "The person bidding."},
    {"name": "price", "type": "long", "doc": "The bid, in cents."},
    {"name": "channel", "type": "string", "doc": "Where the bid came from."},
    {"name": "url", "type": "string", "doc": "The page the bid was made on."},
    {"name": "dateTime", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When the bid was made."},
    {"name": "extra", "type": "string", "doc": "Padding, to make a bid about 100 bytes."}
  ]
}`

// Nexmark's generator constants (GeneratorConfig and the default
// NexmarkConfiguration).
const (
	personProportion  = 1
	auctionProportion = 3
	bidProportion     = 46
	totalProportion   = personProportion + auctionProportion + bidProportion

	firstAuctionID = 1000
	firstPersonID  = 1000

	hotAuctionRatio    = 2 // P(hot auction) = 1 - 1/2
	hotBiddersRatio    = 4 // P(hot bidder) = 1 - 1/4
	hotAuctionBlock    = 100
	hotBidderBlock     = 100
	numInFlightAuction = 100
	numActivePeople    = 1000
	auctionIDLead      = 10
	personIDLead       = 10

	hotChannelsRatio = 2
	channelsNumber   = 10_000

	// extra: Nexmark pads a bid (32 bytes of numbers) to avgBidByteSize
	// 100: 68 ± 20%, that is 54 to 81 characters.
	extraMin   = 54
	extraRange = 28
)

var hotChannels = [...]string{"Google", "Facebook", "Baidu", "Apple"}

const (
	urlPrefix     = "https://www.nexmark.com/"
	urlSuffix     = "/item.htm?query=1"
	channelPrefix = "channel-"
)

// padding is the text extra values are cut from: lower-case letters and
// spaces, fixed so that every stream shares it.
var padding = func() []byte {
	r := rand.New(rand.NewPCG(0x6e65786d, 0x61726b))
	const letters = "abcdefghijklmnopqrstuvwxyz "
	b := make([]byte, 4096)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return b
}()

// BidStream generates bids, one per Next. It is deterministic: the same
// seed, start and rate give the same bytes. A BidStream is not safe for
// concurrent use.
type BidStream struct {
	r       *rand.Rand
	start   int64 // ms since the epoch
	perSec  int64
	n       int64 // bids generated so far
	channel [20]byte
}

// NewBidStream returns a stream of bids whose event times start at start
// and advance at eventsPerSecond bids per second (at least 1).
func NewBidStream(seed uint64, start time.Time, eventsPerSecond int) *BidStream {
	return &BidStream{
		r:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start:  start.UnixMilli(),
		perSec: max(int64(eventsPerSecond), 1),
	}
}

// Bid is one bid in Go form, the fields of BidSchema, for decoding what
// Next writes (Next writes Avro directly and does not use it).
type Bid struct {
	Auction  int64     `avro:"auction"`
	Bidder   int64     `avro:"bidder"`
	Price    int64     `avro:"price"`
	Channel  string    `avro:"channel"`
	URL      string    `avro:"url"`
	DateTime time.Time `avro:"dateTime"`
	Extra    string    `avro:"extra"`
}

// Count is how many bids the stream has generated.
func (s *BidStream) Count() int64 { return s.n }

// Next appends the Avro binary encoding of the next bid (under BidSchema)
// to dst and returns the extended slice. It allocates nothing when dst has
// room for about 200 bytes.
func (s *BidStream) Next(dst []byte) []byte {
	k := s.n
	s.n++
	event := k/bidProportion*totalProportion + personProportion + auctionProportion + k%bidProportion
	r := s.r

	auction := lastAuction(event)
	if r.IntN(hotAuctionRatio) > 0 {
		auction = auction / hotAuctionBlock * hotAuctionBlock
	} else {
		lo := max(auction-numInFlightAuction, 0)
		auction = lo + r.Int64N(auction-lo+1+auctionIDLead)
	}
	auction += firstAuctionID

	people := lastPerson(event) + 1
	var bidder int64
	if r.IntN(hotBiddersRatio) > 0 {
		bidder = (people-1)/hotBidderBlock*hotBidderBlock + 1
	} else {
		active := min(people, numActivePeople)
		bidder = people - active + r.Int64N(active+personIDLead)
	}
	bidder += firstPersonID

	price := int64(math.Round(math.Pow(10, r.Float64()*6) * 100))

	var channel []byte
	if r.IntN(hotChannelsRatio) > 0 {
		channel = append(s.channel[:0], hotChannels[r.IntN(len(hotChannels))]...)
	} else {
		channel = strconv.AppendInt(append(s.channel[:0], channelPrefix...), int64(r.IntN(channelsNumber)), 10)
	}

	extraLen := extraMin + r.IntN(extraRange)
	extraAt := r.IntN(len(padding) - extraLen)

	dst = appendLong(dst, auction)
	dst = appendLong(dst, bidder)
	dst = appendLong(dst, price)
	dst = appendLong(dst, int64(len(channel)))
	dst = append(dst, channel...)
	dst = appendLong(dst, int64(len(urlPrefix)+len(channel)+len(urlSuffix)))
	dst = append(dst, urlPrefix...)
	dst = append(dst, channel...)
	dst = append(dst, urlSuffix...)
	dst = appendLong(dst, s.start+k*1000/s.perSec)
	dst = appendLong(dst, int64(extraLen))
	dst = append(dst, padding[extraAt:extraAt+extraLen]...)
	return dst
}

// lastAuction is Nexmark's lastBase0AuctionId: the last auction created
// at or before event number event.
func lastAuction(event int64) int64 {
	epoch, offset := event/totalProportion, event%totalProportion
	switch {
	case offset < personProportion:
		epoch--
		offset = auctionProportion - 1
	case offset >= personProportion+auctionProportion:
		offset = auctionProportion - 1
	default:
		offset -= personProportion
	}
	return epoch*auctionProportion + offset
}

// lastPerson is Nexmark's lastBase0PersonId.
func lastPerson(event int64) int64 {
	epoch, offset := event/totalProportion, event%totalProportion
	if offset >= personProportion {
		offset = personProportion - 1
	}
	return epoch*personProportion + offset
}

// appendLong appends v as an Avro long: zig-zag, then a base-128 varint.
func appendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}
