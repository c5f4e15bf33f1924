package host

import (
	"encoding/json"
	"time"
)

// State is a job's end state.
type State string

// Job states. A job is running until it is done or failed.
const (
	Running State = "running"
	Done    State = "done"
	Failed  State = "failed"
)

// Level is the severity of a log line or activity-log message.
type Level int

// Levels as numbered in the ABI.
const (
	Debug Level = iota
	Info
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Debug:
		return "debug"
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "unknown"
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// LogLine is one line of the job log. Source is "guest" for xf.log,
// "stdout" or "stderr" for captured WASI output, and "host" for the host's
// own remarks.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   Level     `json:"level"`
	Source  string    `json:"source"`
	Message string    `json:"message"`
}

// Activity is one activity-log message.
type Activity struct {
	Time  time.Time `json:"time"`
	Level Level     `json:"level"`
	Title string    `json:"title"`
}

// Progress is one progress report.
type Progress struct {
	Time    time.Time `json:"time"`
	Percent float64   `json:"percent"`
}

// Timings break down where a job's time went.
type Timings struct {
	Load    time.Duration `json:"load_ns"`    // parse, check and compile (cached after the first job)
	Resolve time.Duration `json:"resolve_ns"` // validate inputs
	Run     time.Duration `json:"run_ns"`     // the guest instance, host calls included
	Total   time.Duration `json:"total_ns"`
}

// Result is everything a job produced.
type Result struct {
	JobID     string                     `json:"job_id"`
	TaskType  string                     `json:"task_type"`
	Version   string                     `json:"task_type_version"`
	State     State                      `json:"state"`
	Outputs   map[string]json.RawMessage `json:"outputs"`
	Units     map[string]string          `json:"units,omitempty"`
	Error     string                     `json:"error,omitempty"`         // why the job failed
	ErrorNote string                     `json:"error_message,omitempty"` // xf.error_set's message
	Log       []LogLine                  `json:"log"`
	Activity  []Activity                 `json:"activity,omitempty"`
	Progress  []Progress                 `json:"progress,omitempty"`
	// EstimatedDuration is the last estimate of the job's total duration.
	EstimatedDuration time.Duration `json:"estimated_duration_ns,omitempty"`
	Timings           Timings       `json:"timings"`
}
