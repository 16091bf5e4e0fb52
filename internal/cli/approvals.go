// SPDX-License-Identifier: Apache-2.0

// interlock approvals list|show|approve|deny|watch.

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func newApprovals(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List, decide and watch just-in-time approval requests",
	}
	f.add(cmd)
	cmd.AddCommand(
		approvalsList(f, stdout),
		approvalsShow(f, stdout),
		approvalsDecide(f, stdout, true),
		approvalsDecide(f, stdout, false),
		approvalsWatch(f, stdout),
	)
	return cmd
}

func parseState(s string) (interlockv1.ApprovalState, error) {
	if s == "" || s == "all" {
		return interlockv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED, nil
	}
	v, ok := interlockv1.ApprovalState_value["APPROVAL_STATE_"+strings.ToUpper(s)]
	if !ok {
		return 0, usageErrorf("--state %q: want pending, approved, denied, expired or all", s)
	}
	return interlockv1.ApprovalState(v), nil
}

func approvalsList(f *clientFlags, stdout io.Writer) *cobra.Command {
	var state string
	var limit uint32
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List approvals, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := parseState(state)
			if err != nil {
				return err
			}
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			client := interlockv1.NewApprovalServiceClient(cc)
			all, err := listPages(cmd.Context(), f, "approvals list", limit,
				func(ctx context.Context, tok string) ([]*interlockv1.Approval, string, error) {
					resp, err := client.List(ctx, &interlockv1.ListApprovalsRequest{State: st, PageSize: min(limit, 500), PageToken: tok})
					return resp.GetApprovals(), resp.GetNextPageToken(), err
				})
			if err != nil {
				return err
			}
			if f.output != "table" {
				return printStructured(stdout, f.output, all, false)
			}
			t := newTable(stdout, approvalHeader...)
			for _, a := range all {
				t.row(approvalRow(a)...)
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&state, "state", "pending", "pending, approved, denied, expired or all")
	cmd.Flags().Uint32Var(&limit, "limit", 100, "list at most this many")
	return cmd
}

var approvalHeader = []string{"ID", "STATE", "CREATED", "REQUESTER", "TARGET", "OPERATION", "RULE", "APPROVALS"}

func approvalRow(a *interlockv1.Approval) []string {
	yes := 0
	for _, d := range a.GetDecisions() {
		if d.GetApprove() {
			yes++
		}
	}
	return []string{
		a.GetId(), stateWord(a.GetState()), when(a.GetCreated()), orDash(identityName(a.GetRequester())),
		orDash(a.GetTarget()), orDash(a.GetOperation()), orDash(a.GetRule()),
		fmt.Sprintf("%d/%d", yes, max(a.GetMinApprovals(), 1)),
	}
}

func stateWord(s interlockv1.ApprovalState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "APPROVAL_STATE_"))
}

func identityName(id *interlockv1.Identity) string {
	for _, s := range []string{id.GetSubject(), id.GetAppId(), id.GetObjectId()} {
		if s != "" {
			return s
		}
	}
	return ""
}

func approvalsShow(f *clientFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one approval with its decisions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx, cancel := f.callCtx(cmd.Context())
			defer cancel()
			a, err := interlockv1.NewApprovalServiceClient(cc).Get(ctx, &interlockv1.GetApprovalRequest{Id: args[0]})
			if err != nil {
				return f.callError("approvals show", err)
			}
			return printApproval(stdout, f.output, a)
		},
	}
}

func printApproval(w io.Writer, format string, a *interlockv1.Approval) error {
	if format != "table" {
		return printStructured(w, format, []*interlockv1.Approval{a}, true)
	}
	t := newTable(w)
	t.row("ID:", a.GetId())
	t.row("State:", stateWord(a.GetState()))
	t.row("Requester:", orDash(identityName(a.GetRequester())))
	t.row("Workload:", orDash(a.GetWorkload().GetName()))
	t.row("Node:", orDash(a.GetNode()))
	t.row("Target:", orDash(a.GetTarget()))
	t.row("Operation:", orDash(a.GetOperation()))
	t.row("Summary:", orDash(a.GetSummary()))
	t.row("Rule:", orDash(a.GetRule()))
	t.row("Reason:", orDash(a.GetReason()))
	t.row("Fingerprint:", fmt.Sprintf("%x", a.GetFingerprint()))
	t.row("Approvers:", orDash(strings.Join(a.GetApprovers(), ", ")))
	t.row("Needs:", fmt.Sprintf("%d approval(s)", max(a.GetMinApprovals(), 1)))
	t.row("Created:", when(a.GetCreated()))
	t.row("Expires:", when(a.GetExpires()))
	if a.GetGrantUntil() != nil {
		t.row("Grant until:", when(a.GetGrantUntil()))
	}
	for _, d := range a.GetDecisions() {
		verb := "denied"
		if d.GetApprove() {
			verb = "approved"
		}
		t.row("Decision:", fmt.Sprintf("%s %s at %s: %s", d.GetApprover(), verb, when(d.GetTime()), orDash(d.GetComment())))
	}
	return t.flush()
}

func approvalsDecide(f *clientFlags, stdout io.Writer, approve bool) *cobra.Command {
	verb := "deny"
	if approve {
		verb = "approve"
	}
	var comment string
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " an approval request (never your own)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx, cancel := f.callCtx(cmd.Context())
			defer cancel()
			a, err := interlockv1.NewApprovalServiceClient(cc).Decide(ctx, &interlockv1.DecideRequest{Id: args[0], Approve: approve, Comment: comment})
			if err != nil {
				return f.callError("approvals "+verb, err)
			}
			return printApproval(stdout, f.output, a)
		},
	}
	cmd.Flags().StringVarP(&comment, "comment", "m", "", "why, recorded with the decision")
	return cmd
}

func approvalsWatch(f *clientFlags, stdout io.Writer) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Stream approval requests and their changes as they happen",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx := cmd.Context()
			s, err := interlockv1.NewApprovalServiceClient(cc).Watch(ctx, &interlockv1.WatchApprovalsRequest{PendingOnly: !all})
			if err != nil {
				return f.callError("approvals watch", err)
			}
			t := newTable(stdout, approvalHeader...)
			if f.output == "table" {
				if err := t.flush(); err != nil {
					return err
				}
			}
			for {
				a, err := s.Recv()
				if errors.Is(err, io.EOF) || ctx.Err() != nil {
					return nil
				}
				if err != nil {
					return f.callError("approvals watch", err)
				}
				if f.output != "table" {
					if err := printLine(stdout, f.output, a); err != nil {
						return err
					}
					continue
				}
				// Rows are flushed one by one, so columns align only
				// approximately: a stream cannot wait for the widest row.
				t.row(approvalRow(a)...)
				if err := t.flush(); err != nil {
					return err
				}
			}
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "start with decided approvals too, not only pending ones")
	return cmd
}
