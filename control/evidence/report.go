// SPDX-License-Identifier: Apache-2.0

// Report: what verifying a bundle showed, per control, and the verdict.

package evidence

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/interlockhq/interlock/control/auditlog"
)

// Problem is one reason a bundle fails verification.
type Problem struct {
	// Control is the NIST SP 800-53 control the failed check evidences.
	Control string
	Reason  string
}

func (p Problem) String() string { return p.Control + ": " + p.Reason }

// ErrFailed: a bundle did not verify; the wrapping error names the first
// problem.
var ErrFailed = errors.New("evidence bundle FAILED verification")

// Report is the outcome of Verify.
type Report struct {
	// Checkpoint is the verified checkpoint (zero when it did not verify).
	Checkpoint auditlog.Checkpoint
	KeyID      string
	// VerifierKey is the key the signatures were checked with.
	VerifierKey string
	// KeyFromBundle says the key came from the bundle's log.pub, which
	// proves only internal consistency.
	KeyFromBundle bool
	Sessions      int
	Chunks        int
	Events        int
	Records       int
	// Notes are what each control's checks showed, by control id.
	Notes map[string][]string
	// Problems are why the bundle fails; none means it verified.
	Problems []Problem
}

// Fail adds a problem under a control: the bundle does not verify.
func (r *Report) Fail(control, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Control: control, Reason: fmt.Sprintf(format, args...)})
}

// Note adds what a check showed under a control.
func (r *Report) Note(control, format string, args ...any) {
	if r.Notes == nil {
		r.Notes = map[string][]string{}
	}
	r.Notes[control] = append(r.Notes[control], fmt.Sprintf(format, args...))
}

// OK reports whether the bundle verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Err is nil when the bundle verified, else ErrFailed with the first
// problem and how many more there are.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	more := ""
	if n := len(r.Problems) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	return fmt.Errorf("%w: %s%s", ErrFailed, r.Problems[0], more)
}

// KeyWarning is printed when the key came from the bundle.
const KeyWarning = `WARNING: no --key given: the log key was taken from the bundle itself.
WARNING: that only proves the bundle is internally consistent, not that your
WARNING: control plane signed it: anyone can build a consistent bundle with a
WARNING: key of their own. Verify with the log key from the operator (--key).`

// Print writes the report: the checkpoint, a line per control, and a last
// line VERIFIED or FAILED with the reason.
func (r *Report) Print(w io.Writer) error {
	var b strings.Builder
	if r.KeyFromBundle {
		fmt.Fprintf(&b, "%s\n\n", KeyWarning)
	}
	fmt.Fprintf(&b, "bundle: %d sessions, %d chunks, %d events, %d audit records\n", r.Sessions, r.Chunks, r.Events, r.Records)
	if c := r.Checkpoint; c.Origin != "" {
		src := "--key"
		if r.KeyFromBundle {
			src = "the bundle (unverified)"
		}
		fmt.Fprintf(&b, "checkpoint: %s size %d root %s at %s, key %s from %s\n",
			c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]), c.Time.UTC().Format(time.RFC3339), r.KeyID, src)
	}
	b.WriteString("\n")
	failed := map[string][]string{}
	for _, p := range r.Problems {
		failed[p.Control] = append(failed[p.Control], p.Reason)
	}
	for _, c := range Controls() {
		status := "OK"
		lines := r.Notes[c.ID]
		if f := failed[c.ID]; len(f) > 0 {
			status, lines = "FAILED", f
		} else if len(lines) == 0 {
			status = "-"
		}
		fmt.Fprintf(&b, "%-6s %-44s %s\n", c.ID, c.Title, status)
		for _, l := range lines {
			fmt.Fprintf(&b, "         %s\n", l)
		}
	}
	if f := failed["bundle"]; len(f) > 0 {
		fmt.Fprintf(&b, "%-6s %-44s %s\n", "", "Bundle structure", "FAILED")
		for _, l := range f {
			fmt.Fprintf(&b, "         %s\n", l)
		}
	}
	b.WriteString("\n")
	switch {
	case !r.OK():
		fmt.Fprintf(&b, "FAILED: %s\n", strings.TrimPrefix(r.Err().Error(), ErrFailed.Error()+": "))
	case r.KeyFromBundle:
		b.WriteString("VERIFIED (internally consistent only: the key came from the bundle; pass --key)\n")
	default:
		fmt.Fprintf(&b, "VERIFIED: every file, chunk and audit record is proven in log %s at size %d, signed by key %s\n",
			r.Checkpoint.Origin, r.Checkpoint.Size, r.KeyID)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
