package catalog

import (
	"strings"
	"testing"
)

func TestPlace(t *testing.T) {
	c := func(name, region string, state ClusterState, reachable bool, parts int, bps float64, lim Limits) Cluster {
		return Cluster{Name: name, Region: region, AdminState: state, Reachable: reachable, Limits: lim,
			Usage: Usage{Partitions: parts, BytesPerSecond: bps}}
	}
	tests := []struct {
		name     string
		clusters []Cluster
		want     string
		reasons  []string // when no cluster qualifies
	}{
		{"least partitions wins", []Cluster{
			c("a", "eu", Active, true, 100, 0, Limits{}),
			c("b", "eu", Active, true, 40, 0, Limits{}),
		}, "b", nil},
		{"byte rate counts", []Cluster{
			c("a", "eu", Active, true, 10, 90<<20, Limits{}),
			c("b", "eu", Active, true, 400, 0, Limits{}),
		}, "b", nil},
		{"load is relative to limits", []Cluster{
			c("small", "eu", Active, true, 50, 0, Limits{MaxPartitions: 100}),
			c("big", "eu", Active, true, 500, 0, Limits{MaxPartitions: 10000}),
		}, "big", nil},
		{"tie goes to fewer partitions then name", []Cluster{
			c("b", "eu", Active, true, 0, 0, Limits{}),
			c("a", "eu", Active, true, 0, 0, Limits{}),
		}, "a", nil},
		{"only same region, active, reachable, with headroom", []Cluster{
			c("us", "us", Active, true, 0, 0, Limits{}),
			c("drain", "eu", Draining, true, 0, 0, Limits{}),
			c("down", "eu", Active, false, 0, 0, Limits{}),
			c("full", "eu", Active, true, 95, 0, Limits{MaxPartitions: 100}),
			c("hot", "eu", Active, true, 0, 1000, Limits{MaxBytesPerSecond: 1000}),
			c("ok", "eu", Active, true, 3000, 0, Limits{}),
		}, "ok", nil},
		{"none qualifies", []Cluster{
			c("us", "us", Active, true, 0, 0, Limits{}),
			c("drain", "eu", Draining, true, 0, 0, Limits{}),
			c("down", "eu", Active, false, 0, 0, Limits{}),
			c("full", "eu", Active, true, 95, 0, Limits{MaxPartitions: 100}),
			c("hot", "eu", Active, true, 0, 1000, Limits{MaxBytesPerSecond: 1000}),
		}, "", []string{"us: in region us", "drain: draining", "down: unreachable", "full: 95 of 100 partitions used, no room for 6 more", "hot: writing 1000 bytes/s"}},
		{"no clusters at all", nil, "", []string{"no clusters are registered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := place(tt.clusters, "eu", 6)
			if tt.want != "" {
				if err != nil || got.Name != tt.want {
					t.Fatalf("place = %q, %v; want %q", got.Name, err, tt.want)
				}
				return
			}
			if CodeOf(err) != Conflict {
				t.Fatalf("place = %q, %v; want a conflict", got.Name, err)
			}
			for _, r := range tt.reasons {
				if !strings.Contains(err.Error(), r) {
					t.Errorf("error %q does not give the reason %q", err, r)
				}
			}
		})
	}
}
