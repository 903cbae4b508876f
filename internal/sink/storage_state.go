package sink

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// storageState is what the storage sink keeps in the bucket for one
// source partition of a job (_sluice/<job>/p<partition>.json), or for the
// aggregation results of one task of a job (_sluice/<job>/agg-<task>.json).
// One object, replaced whole (a PUT is atomic), so it is always one of the
// versions written.
//
// Each roll is written in three steps: the state with Intent (the cut and
// the objects it will write), the data objects, then the state with Next
// (or Offsets) moved past the roll and no Intent. A state that still has
// an Intent after a crash names a roll that may be partly written.
type storageState struct {
	Version int    `json:"version"`
	Job     string `json:"job"`
	// Partition is the source partition; nil for aggregation results.
	Partition *int32 `json:"partition,omitempty"`
	Task      string `json:"task,omitempty"`
	// Next is the next offset to consume: every record before it is in a
	// committed object (or was filtered out). Absent before the first
	// commit.
	Next *int64 `json:"next,omitempty"`
	// Offsets are, for aggregation results, the job's offsets to resume
	// from (held back to open windows) as of the last committed roll.
	Offsets map[int32]int64 `json:"offsets,omitempty"`
	// Meta is the runtime's metadata of Offsets (Batch.Meta).
	Meta map[int32]string `json:"meta,omitempty"`
	// Rolls counts the committed rolls of aggregation results, which name
	// their objects.
	Rolls   int64          `json:"rolls,omitempty"`
	Updated time.Time      `json:"updated"`
	Intent  *storageIntent `json:"intent,omitempty"`
}

// storageIntent is a roll decided and perhaps partly written.
type storageIntent struct {
	// From is where the roll starts: the offset to resume from while it
	// is not committed. To is the offset after it, Next once committed.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// For aggregation results: the offsets before and after the roll.
	FromOffsets map[int32]int64  `json:"fromOffsets,omitempty"`
	ToOffsets   map[int32]int64  `json:"toOffsets,omitempty"`
	FromMeta    map[int32]string `json:"fromMeta,omitempty"`
	ToMeta      map[int32]string `json:"toMeta,omitempty"`
	// Records in the roll (aggregation results).
	Records int `json:"records,omitempty"`
	// Time is the roll's write time: the time of records without an
	// event time, kept so that a roll written again goes to the same
	// directories.
	Time time.Time `json:"time"`
	// Objects are the keys the roll writes (or wrote before a crash).
	Objects []string `json:"objects"`
}

const storageStateVersion = 1

// storageStateKey names the state object of a job's source partition, or
// with part -1 of a task's aggregation results.
func storageStateKey(job, task string, part int32) string {
	if part < 0 {
		return storageStateDir + storageName(job) + "/agg-" + storageName(task) + ".json"
	}
	return storageStateDir + storageName(job) + "/p" + strconv.Itoa(int(part)) + ".json"
}

// parseStorageStateKey is the partition of a state key under the job's
// directory (-1 for the task's aggregation results); ok is false for
// other keys.
func parseStorageStateKey(key, job, task string) (int32, bool) {
	name, ok := strings.CutPrefix(key, storageStateDir+storageName(job)+"/")
	if !ok {
		return 0, false
	}
	if name == "agg-"+storageName(task)+".json" {
		return -1, true
	}
	num, ok := strings.CutPrefix(name, "p")
	if !ok {
		return 0, false
	}
	num, ok = strings.CutSuffix(num, ".json")
	if !ok {
		return 0, false
	}
	p, err := strconv.ParseInt(num, 10, 32)
	if err != nil || p < 0 || strconv.Itoa(int(p)) != num {
		return 0, false
	}
	return int32(p), true
}

func decodeStorageState(b []byte, key string) (*storageState, error) {
	var st storageState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", key, err)
	}
	if st.Version != storageStateVersion {
		return nil, fmt.Errorf("state %s: version %d, this sink knows %d", key, st.Version, storageStateVersion)
	}
	return &st, nil
}
