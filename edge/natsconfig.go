package edge

import (
	"encoding/json"
	"fmt"
)

// streamConfig is the JSON `nats stream add --config` reads (JetStream's
// StreamConfig); durations are nanoseconds.
type streamConfig struct {
	Name       string   `json:"name"`
	Subjects   []string `json:"subjects"`
	Retention  string   `json:"retention"`
	Storage    string   `json:"storage"`
	Discard    string   `json:"discard"`
	MaxAge     int64    `json:"max_age"`
	MaxMsgSize int32    `json:"max_msg_size"`
	Replicas   int      `json:"num_replicas"`
	// DuplicateWindow drops re-sent messages with the same Nats-Msg-Id,
	// so an uplink that retries after a timeout does not double-deliver.
	DuplicateWindow int64 `json:"duplicate_window"`
}

// DuplicateWindowSeconds is how long JetStream remembers message ids.
const DuplicateWindowSeconds = 120

// StreamConfigs renders each stream as the JSON file the stream-setup job
// applies, keyed by file name.
func StreamConfigs(streams []Stream) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range streams {
		b, err := json.MarshalIndent(streamConfig{
			Name: s.Name, Subjects: s.Subjects, Retention: "limits", Storage: "file", Discard: "old",
			MaxAge: s.MaxAge.Nanoseconds(), MaxMsgSize: int32(s.MaxMsgSize), Replicas: s.Replicas,
			DuplicateWindow: DuplicateWindowSeconds * 1e9,
		}, "", "  ")
		if err != nil {
			return nil, err
		}
		out[fmt.Sprintf("%s.json", s.Name)] = string(b)
	}
	return out, nil
}
