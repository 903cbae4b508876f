package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// place chooses the cluster for a new topic of the given partitions in
// region, by the rules in the package documentation. When none qualifies the
// error lists why each cluster was passed over.
func place(clusters []Cluster, region string, partitions int) (Cluster, error) {
	type candidate struct {
		c    Cluster
		load float64
	}
	var (
		candidates []candidate
		reasons    []string
	)
	for _, c := range clusters {
		var why string
		switch {
		case c.Region != region:
			why = fmt.Sprintf("in region %s", c.Region)
		case !c.Reachable:
			why = "unreachable at its last probe"
		case c.AdminState != Active:
			why = string(c.AdminState)
		case c.Limits.MaxPartitions > 0 && c.Usage.Partitions+partitions > c.Limits.MaxPartitions:
			why = fmt.Sprintf("%d of %d partitions used, no room for %d more", c.Usage.Partitions, c.Limits.MaxPartitions, partitions)
		case c.Limits.MaxBytesPerSecond > 0 && c.Usage.BytesPerSecond >= float64(c.Limits.MaxBytesPerSecond):
			why = fmt.Sprintf("writing %.0f bytes/s, at or over its limit of %d", c.Usage.BytesPerSecond, c.Limits.MaxBytesPerSecond)
		}
		if why != "" {
			reasons = append(reasons, c.Name+": "+why)
			continue
		}
		candidates = append(candidates, candidate{c, load(c, partitions)})
	}
	if len(candidates) == 0 {
		if len(reasons) == 0 {
			return Cluster{}, conflict("no cluster can take a topic in region %q: no clusters are registered", region)
		}
		return Cluster{}, conflict("no cluster can take a topic of %d partitions in region %q: %s",
			partitions, region, strings.Join(reasons, "; "))
	}
	best := slices.MinFunc(candidates, func(a, b candidate) int {
		return cmp.Or(
			cmp.Compare(a.load, b.load),
			cmp.Compare(a.c.Usage.Partitions, b.c.Usage.Partitions),
			cmp.Compare(a.c.Usage.BytesPerSecond, b.c.Usage.BytesPerSecond),
			cmp.Compare(a.c.Name, b.c.Name),
		)
	})
	return best.c, nil
}

// load is the larger of a cluster's partition use (counting the new topic)
// and byte-rate use, each as a fraction of its limit or of the default
// capacity when it has none.
func load(c Cluster, partitions int) float64 {
	maxParts := float64(cmp.Or(c.Limits.MaxPartitions, DefaultCapacityPartitions))
	maxBytes := float64(cmp.Or(c.Limits.MaxBytesPerSecond, DefaultCapacityBytesPerSec))
	return max(float64(c.Usage.Partitions+partitions)/maxParts, c.Usage.BytesPerSecond/maxBytes)
}
