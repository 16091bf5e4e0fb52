// SPDX-License-Identifier: Apache-2.0

// interlock sessions list|show|replay.

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func newSessions(stdout io.Writer) *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "Search recorded sessions and replay them",
	}
	f.add(cmd)
	cmd.AddCommand(sessionsList(f, stdout), sessionsShow(f, stdout), sessionsReplay(f, stdout))
	return cmd
}

// sessionFilterFlags are the search flags of sessions list.
type sessionFilterFlags struct {
	identity, workload, target, operation, decision, node string
	since, until                                          string
}

func (s *sessionFilterFlags) filter(now time.Time) (*interlockv1.SessionFilter, error) {
	f := &interlockv1.SessionFilter{Identity: s.identity, Workload: s.workload, Target: s.target, Operation: s.operation, Node: s.node}
	if s.decision != "" {
		v, ok := interlockv1.Action_value["ACTION_"+strings.ToUpper(s.decision)]
		if !ok || v == 0 {
			return nil, usageErrorf("--decision %q: want allow, deny or approve", s.decision)
		}
		f.Decision = interlockv1.Action(v)
	}
	var err error
	if f.Since, err = parseWhen("--since", s.since, now); err != nil {
		return nil, err
	}
	if f.Until, err = parseWhen("--until", s.until, now); err != nil {
		return nil, err
	}
	return f, nil
}

// parseWhen reads an RFC 3339 time or a duration back from now ("2h").
func parseWhen(flag, s string, now time.Time) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return timestamppb.New(now.Add(-d)), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usageErrorf("%s %q: want an RFC 3339 time or a duration ago such as 2h", flag, s)
	}
	return timestamppb.New(t), nil
}

func sessionsList(f *clientFlags, stdout io.Writer) *cobra.Command {
	var ff sessionFilterFlags
	var limit uint32
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Search sessions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := ff.filter(time.Now())
			if err != nil {
				return err
			}
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			client := interlockv1.NewAuditServiceClient(cc)
			all, err := listPages(cmd.Context(), f, "sessions list", limit,
				func(ctx context.Context, tok string) ([]*interlockv1.SessionSummary, string, error) {
					resp, err := client.ListSessions(ctx, &interlockv1.ListSessionsRequest{Filter: filter, PageSize: min(limit, 500), PageToken: tok})
					return resp.GetSessions(), resp.GetNextPageToken(), err
				})
			if err != nil {
				return err
			}
			if f.output != "table" {
				return printStructured(stdout, f.output, all, false)
			}
			t := newTable(stdout, "SESSION", "OPENED", "WORKLOAD", "IDENTITY", "TARGET", "EXCHANGES", "DENIED", "MASKED", "STATE")
			for _, s := range all {
				t.row(s.GetSessionId(), when(s.GetOpened()), orDash(s.GetWorkload().GetName()), orDash(identityName(s.GetIdentity())),
					orDash(s.GetTarget()), fmt.Sprint(s.GetExchanges()), fmt.Sprint(s.GetDenied()), fmt.Sprint(s.GetMasked()), sessionState(s))
			}
			return t.flush()
		},
	}
	ff.add(cmd)
	cmd.Flags().Uint32Var(&limit, "limit", 100, "list at most this many")
	return cmd
}

// add defines the search flags on cmd (sessions list, audit export).
func (s *sessionFilterFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.identity, "identity", "", "subject, app id or object id of the caller")
	fl.StringVar(&s.workload, "workload", "", "workload name")
	fl.StringVar(&s.target, "target", "", "policy target name")
	fl.StringVar(&s.operation, "operation", "", "Azure operation or SQL statement type")
	fl.StringVar(&s.decision, "decision", "", "allow, deny or approve")
	fl.StringVar(&s.node, "node", "", "node id")
	fl.StringVar(&s.since, "since", "", "opened at or after: RFC 3339 time or a duration ago (2h)")
	fl.StringVar(&s.until, "until", "", "opened before: RFC 3339 time or a duration ago")
}

func sessionState(s *interlockv1.SessionSummary) string {
	if s.GetComplete() {
		return "closed"
	}
	return "open"
}

func sessionsShow(f *clientFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "show SESSION",
		Short: "Show what the index knows about one session",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx, cancel := f.callCtx(cmd.Context())
			defer cancel()
			s, err := interlockv1.NewAuditServiceClient(cc).GetSession(ctx, &interlockv1.GetSessionRequest{SessionId: args[0]})
			if err != nil {
				return f.callError("sessions show", err)
			}
			if f.output != "table" {
				return printStructured(stdout, f.output, []*interlockv1.SessionSummary{s}, true)
			}
			t := newTable(stdout)
			t.row("Session:", s.GetSessionId())
			t.row("Node:", orDash(s.GetNode()))
			t.row("Workload:", orDash(workloadName(s.GetWorkload())))
			t.row("Identity:", orDash(identityName(s.GetIdentity())))
			t.row("Protocol:", protocolWord(s.GetProtocol()))
			t.row("Target:", orDash(s.GetTarget()))
			t.row("Server name:", orDash(s.GetServerName()))
			t.row("Opened:", when(s.GetOpened()))
			t.row("Closed:", when(s.GetClosed()))
			t.row("Events:", fmt.Sprint(s.GetEvents()))
			t.row("Exchanges:", fmt.Sprint(s.GetExchanges()))
			t.row("Denied:", fmt.Sprint(s.GetDenied()))
			t.row("Approvals:", fmt.Sprint(s.GetApprovals()))
			t.row("Masked values:", fmt.Sprint(s.GetMasked()))
			t.row("State:", sessionState(s))
			return t.flush()
		},
	}
}

func workloadName(w *interlockv1.Workload) string {
	if w == nil {
		return ""
	}
	kind := strings.ToLower(strings.TrimPrefix(w.GetKind().String(), "KIND_"))
	name := w.GetName()
	if w.GetNamespace() != "" {
		name = w.GetNamespace() + "/" + name
	}
	return fmt.Sprintf("%s (%s)", name, kind)
}

func protocolWord(p interlockv1.Protocol) string {
	return strings.ToLower(strings.TrimPrefix(p.String(), "PROTOCOL_"))
}

func sessionsReplay(f *clientFlags, stdout io.Writer) *cobra.Command {
	var from uint64
	cmd := &cobra.Command{
		Use:   "replay SESSION",
		Short: "Print a session's exchanges in order, with timing, as recorded (masked)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := f.dial()
			if err != nil {
				return err
			}
			defer cc.Close()
			ctx := cmd.Context()
			s, err := interlockv1.NewAuditServiceClient(cc).ReadSession(ctx, &interlockv1.ReadSessionRequest{SessionId: args[0], FromSeq: from})
			if err != nil {
				return f.callError("sessions replay", err)
			}
			var events []*interlockv1.SessionEvent
			for {
				e, err := s.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return f.callError("sessions replay", err)
				}
				if f.output == "table" {
					if err := replayEvent(stdout, e); err != nil {
						return err
					}
					continue
				}
				events = append(events, e)
			}
			if f.output != "table" {
				return printStructured(stdout, f.output, events, false)
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&from, "from-seq", 0, "start at this event")
	return cmd
}
