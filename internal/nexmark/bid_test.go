package nexmark

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestNextDecodes checks that twmb/avro decodes what Next writes, field for
// field, and that the values follow Nexmark's distributions.
func TestNextDecodes(t *testing.T) {
	schema := avro.MustParse(BidSchema)
	s := NewBidStream(7, start, 1000)
	hotAuction, hotChannel := 0, 0
	const n = 20_000
	var buf []byte
	for k := range n {
		buf = s.Next(buf[:0])
		var b Bid
		rest, err := schema.Decode(buf, &b)
		if err != nil {
			t.Fatalf("bid %d: %v", k, err)
		}
		if len(rest) != 0 {
			t.Fatalf("bid %d: %d bytes left over", k, len(rest))
		}
		if want := start.Add(time.Duration(k) * time.Millisecond); !b.DateTime.Equal(want) {
			t.Fatalf("bid %d: dateTime %v, want %v", k, b.DateTime, want)
		}
		if b.Auction < firstAuctionID || b.Bidder < firstPersonID {
			t.Fatalf("bid %d: auction %d, bidder %d: below the first ids", k, b.Auction, b.Bidder)
		}
		if b.Price < 100 || b.Price > 100_000_000 {
			t.Fatalf("bid %d: price %d out of range", k, b.Price)
		}
		if b.URL != urlPrefix+b.Channel+urlSuffix {
			t.Fatalf("bid %d: url %q for channel %q", k, b.URL, b.Channel)
		}
		if len(b.Extra) < extraMin || len(b.Extra) >= extraMin+extraRange {
			t.Fatalf("bid %d: extra of %d characters", k, len(b.Extra))
		}
		if (b.Auction-firstAuctionID)%hotAuctionBlock == 0 {
			hotAuction++
		}
		if !strings.HasPrefix(b.Channel, channelPrefix) {
			hotChannel++
		}
	}
	// About half the bids go to hot auctions (plus the cold ones that
	// happen to be block starts) and half to hot channels.
	if f := float64(hotAuction) / n; f < 0.45 || f > 0.6 {
		t.Errorf("hot auction share %.3f, want about 0.5", f)
	}
	if f := float64(hotChannel) / n; f < 0.45 || f > 0.55 {
		t.Errorf("hot channel share %.3f, want about 0.5", f)
	}
}

func TestAppendLongMatchesAvro(t *testing.T) {
	schema := avro.MustParse(`"long"`)
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 40, -(1 << 40), 1<<63 - 1, -1 << 63} {
		want, err := schema.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendLong(nil, v); !bytes.Equal(got, want) {
			t.Errorf("appendLong(%d) = %x, want %x", v, got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b, c := NewBidStream(1, start, 100), NewBidStream(1, start, 100), NewBidStream(2, start, 100)
	var x, y, z []byte
	for range 1000 {
		x, y, z = a.Next(x), b.Next(y), c.Next(z)
	}
	if !bytes.Equal(x, y) {
		t.Error("two streams of the same seed differ")
	}
	if bytes.Equal(x, z) {
		t.Error("streams of different seeds are the same")
	}
	if a.Count() != 1000 {
		t.Errorf("Count() = %d, want 1000", a.Count())
	}
}

func TestEventRate(t *testing.T) {
	schema := avro.MustParse(BidSchema)
	s := NewBidStream(1, start, 4) // 4 bids per second: 250ms apart
	var b Bid
	var buf []byte
	for k := range 9 {
		buf = s.Next(buf[:0])
		if _, err := schema.Decode(buf, &b); err != nil {
			t.Fatal(err)
		}
		if want := start.Add(time.Duration(k) * 250 * time.Millisecond); !b.DateTime.Equal(want) {
			t.Errorf("bid %d: dateTime %v, want %v", k, b.DateTime, want)
		}
	}
}

func TestNextAllocatesNothing(t *testing.T) {
	s := NewBidStream(3, start, 1_000_000)
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() { buf = s.Next(buf[:0]) }); n != 0 {
		t.Errorf("Next allocates %v times per bid, want 0", n)
	}
}

func BenchmarkNext(b *testing.B) {
	s := NewBidStream(3, start, 1_000_000)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Next(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}
