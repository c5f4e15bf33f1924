package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Verdict is a result in one word: PASS, FAIL, SKIP, XFAIL (a failure
// the engine's deviations file lists) or XPASS (a listed test that
// passes: the deviation is stale).
func (r Result) Verdict() string {
	switch {
	case r.Skipped != "":
		return "SKIP"
	case r.Deviation != "" && r.Pass:
		return "XPASS"
	case r.Deviation != "":
		return "XFAIL"
	case r.Pass:
		return "PASS"
	}
	return "FAIL"
}

// Summary counts results by verdict and says whether all were expected.
type Summary struct {
	Engine                                string
	Pass, Fail, Skip, XFail, XPass, Total int
}

// OK reports whether every result was expected.
func (s Summary) OK() bool { return s.Fail == 0 && s.XPass == 0 }

// Summarize counts results.
func Summarize(engineName string, results []Result) Summary {
	s := Summary{Engine: engineName, Total: len(results)}
	for _, r := range results {
		switch r.Verdict() {
		case "PASS":
			s.Pass++
		case "FAIL":
			s.Fail++
		case "SKIP":
			s.Skip++
		case "XFAIL":
			s.XFail++
		case "XPASS":
			s.XPass++
		}
	}
	return s
}

func (s Summary) String() string {
	return fmt.Sprintf("%s: %d tests, %d passed, %d failed, %d skipped, %d expected failures, %d unexpected passes",
		s.Engine, s.Total, s.Pass, s.Fail, s.Skip, s.XFail, s.XPass)
}

// WriteTable prints results as a table, one line per test, with the
// detail of every result that is not a plain pass, then the summary.
func WriteTable(w io.Writer, engineName string, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tTEST\tTIME\tDETAIL")
	for _, r := range results {
		detail := r.Detail
		switch {
		case r.Skipped != "":
			detail = r.Skipped
		case r.Deviation != "" && r.Pass:
			detail = "listed as a deviation but passes: " + r.Deviation
		case r.Deviation != "":
			detail = "deviation: " + r.Deviation + " (" + r.Detail + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Verdict(), r.Name, r.Duration.Round(time.Millisecond), detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summarize(engineName, results))
	return err
}

// Report is the JSON form of one engine's run.
type Report struct {
	Engine  string   `json:"engine"`
	OK      bool     `json:"ok"`
	Results []Result `json:"results"`
}

// WriteJSON prints the reports as one indented JSON array.
func WriteJSON(w io.Writer, reports []Report) error {
	data, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}
