// SPDX-License-Identifier: Apache-2.0

// interlock audit verify: check an evidence bundle offline, and, if asked,
// that the log is consistent with a checkpoint saved earlier.

package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/evidence"
	"github.com/interlockhq/interlock/control/merkle"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func auditVerify(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	var keyFile, oldFile string
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify an evidence bundle offline; exit status 1 unless VERIFIED",
		Long: `Verify an evidence bundle with no network: the checkpoint's and the
manifest's signatures (by --key; without it, by the key in the bundle,
which proves only that the bundle agrees with itself), every file's
digest, every chunk's audit log leaf recomputed from its bytes and its
inclusion proof, every session's events decoded and contiguous from seq 1
and equal to their JSON, and every audit record's proof. Prints what each
NIST SP 800-53 control's checks showed, then VERIFIED or FAILED.

--consistent-with OLD.note also asks the control plane (--server) for the
proof that the log at the bundle's checkpoint and at OLD are one history.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key string
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fmt.Errorf("read --key: %w", err)
				}
				key = string(b)
			}
			in, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("audit verify: %w", err)
			}
			defer in.Close()
			rep := evidence.Verify(cmd.Context(), in, evidence.Options{Key: key})
			if oldFile != "" && rep.OK() {
				f.consistentWith(cmd.Context(), rep, oldFile)
			}
			if err := rep.Print(stdout); err != nil {
				return err
			}
			return rep.Err()
		},
	}
	f.addConn(cmd)
	cmd.Flags().StringVar(&keyFile, "key", "", "file holding the log's verifier key, from the control plane's operator ('audit checkpoint --verifier-key')")
	cmd.Flags().StringVar(&oldFile, "consistent-with", "", "a checkpoint saved earlier ('audit checkpoint'); check the log grew from it (needs --server)")
	return cmd
}

// consistentWith checks, with a proof from the control plane, that the
// checkpoint saved in oldFile and the bundle's are of one log, and adds
// the outcome to rep (AU-9).
func (f *clientFlags) consistentWith(ctx context.Context, rep *evidence.Report, oldFile string) {
	msg, err := os.ReadFile(oldFile)
	if err != nil {
		rep.Fail("AU-9", "--consistent-with: %v", err)
		return
	}
	vk, err := auditlog.NewVerifier(rep.VerifierKey)
	if err == nil {
		var old auditlog.Checkpoint
		if old, err = vk.OpenCheckpoint(msg); err == nil {
			err = f.proveConsistent(ctx, old, rep.Checkpoint)
		}
	}
	if err != nil {
		rep.Fail("AU-9", "--consistent-with %s: %v", oldFile, err)
		return
	}
	rep.Note("AU-9", "consistent with %s: one log, which only grew", oldFile)
}

// proveConsistent fetches and checks the consistency proof between two
// checkpoints of one log, smaller first.
func (f *clientFlags) proveConsistent(ctx context.Context, a, b auditlog.Checkpoint) error {
	if a.Size > b.Size {
		a, b = b, a
	}
	cc, err := f.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	cctx, cancel := f.callCtx(ctx)
	defer cancel()
	p, err := interlockv1.NewAuditServiceClient(cc).GetConsistencyProof(cctx, &interlockv1.GetConsistencyProofRequest{FirstSize: a.Size, SecondSize: b.Size})
	if err != nil {
		return f.callError("consistency proof", err)
	}
	hashes := make([]merkle.Hash, len(p.GetHashes()))
	for i, h := range p.GetHashes() {
		if len(h) != merkle.HashSize {
			return fmt.Errorf("consistency proof hash %d is %d bytes", i, len(h))
		}
		hashes[i] = merkle.Hash(h)
	}
	if err := merkle.VerifyConsistency(a.Size, b.Size, a.Root, b.Root, hashes); err != nil {
		return fmt.Errorf("checkpoints of sizes %d and %d are not of one log: %w", a.Size, b.Size, err)
	}
	return nil
}
