// SPDX-License-Identifier: Apache-2.0

// interlock audit checkpoint|export: the signed audit log's checkpoint
// and evidence bundles (verify is in audit_verify.go).

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/interlockhq/interlock/control/auditlog"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func newAudit(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The tamper-evident audit log: checkpoints, evidence export, offline verification",
		Long: `The control plane keeps every recorded chunk and every audit record
(approvals, policy pushes, enrolments) as a leaf of an RFC 6962 Merkle tree
and signs checkpoints of it with an Ed25519 key (pki/log.key in its data
directory). 'audit export' takes an evidence bundle; 'audit verify' checks
one with no network.`,
	}
	cmd.AddCommand(auditCheckpoint(stdout), auditExport(stderr), auditVerify(stdout))
	return cmd
}

func auditCheckpoint(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	var keyOnly bool
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Print the audit log's latest signed checkpoint (a signed note)",
		Long: `Print the audit log's latest signed checkpoint as a signed note: save it
to check later that the log only grew (audit verify --consistent-with).
--verifier-key prints the log's public key instead; hand it to auditors
over a channel you trust, for audit verify --key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx, cancel := f.callCtx(cmd.Context())
			defer cancel()
			cp, err := interlockv1.NewAuditServiceClient(cc).GetCheckpoint(ctx, &interlockv1.GetCheckpointRequest{})
			if err != nil {
				return f.callError("audit checkpoint", err)
			}
			if f.output != "table" {
				return printStructured(stdout, f.output, []*interlockv1.Checkpoint{cp}, true)
			}
			if keyOnly {
				_, err := fmt.Fprintln(stdout, cp.GetVerifierKey())
				return err
			}
			note, err := auditlog.NoteFromSignature([]byte(cp.GetNote()), cp.GetSignature(), cp.GetOrigin(), cp.GetKeyId())
			if err != nil {
				return fmt.Errorf("audit checkpoint: %w", err)
			}
			_, err = stdout.Write(note)
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&keyOnly, "verifier-key", false, "print the log's verifier key instead of the checkpoint")
	return cmd
}

func auditExport(stderr io.Writer) *cobra.Command {
	f := &clientFlags{}
	var ff sessionFilterFlags
	var out string
	cmd := &cobra.Command{
		Use:   "export -o FILE",
		Short: "Export an evidence bundle (tar) of the sessions matching the filters",
		Long: `Export an evidence bundle: the matching sessions' recorded chunks with
their inclusion proofs, their events as JSON, the audit records with their
proofs, a signed checkpoint, the log key and a NIST SP 800-53 control map.
Check it with 'interlock audit verify FILE --key LOG.pub'. Progress goes to
stderr; -o - writes the bundle to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("audit export needs -o FILE")
			}
			filter, err := ff.filter(time.Now())
			if err != nil {
				return err
			}
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			s, err := interlockv1.NewAuditServiceClient(cc).ExportEvidence(cmd.Context(), &interlockv1.ExportEvidenceRequest{Filter: filter})
			if err != nil {
				return f.callError("audit export", err)
			}
			dst, commit, err := createOutput(out, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer commit(false)
			n, err := receiveExport(s, dst, stderr)
			if err != nil {
				return f.callError("audit export", err)
			}
			if err := commit(true); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "audit export: wrote %s (%s)\n", out, byteSize(n))
			return nil
		},
	}
	f.addConn(cmd)
	ff.add(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write the bundle (tar) to; - for stdout")
	return cmd
}

// receiveExport copies the stream to dst, saying how far it got on
// progress at most once a second.
func receiveExport(s interface {
	Recv() (*interlockv1.ExportEvidenceChunk, error)
}, dst io.Writer, progress io.Writer) (int64, error) {
	var n int64
	last := time.Now()
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if _, err := dst.Write(c.GetData()); err != nil {
			return n, fmt.Errorf("write: %w", err)
		}
		n += int64(len(c.GetData()))
		if time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(progress, "audit export: %s received\n", byteSize(n))
		}
	}
}

// createOutput opens where the bundle goes: a temporary file beside path,
// renamed over it only by commit(true), so a failed export never leaves a
// bundle that looks whole; or stdout for "-".
func createOutput(path string, stdout io.Writer) (io.Writer, func(ok bool) error, error) {
	if path == "-" {
		return stdout, func(bool) error { return nil }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".interlock-export-*")
	if err != nil {
		return nil, nil, fmt.Errorf("audit export: %w", err)
	}
	done := false
	commit := func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if !ok {
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("audit export: %w", err)
		}
		return nil
	}
	return f, commit, nil
}

// byteSize formats a byte count for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
