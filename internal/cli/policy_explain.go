// SPDX-License-Identifier: Apache-2.0

// interlock policy test: decide a described request and say why.

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

func newPolicyTest(stdout io.Writer) *cobra.Command {
	var reqFile, output string
	var all bool
	cmd := &cobra.Command{
		Use:   "test FILE... --request REQ.yaml",
		Short: "Decide a described request against policy files and explain the decision",
		Long: `Test loads the policy files as one bundle and decides the request described
in REQ.yaml, whose fields have the names of the CEL variables:

  identity: {subject: agent-1, groups: [agents]}
  workload: {kind: pod, namespace: agents, name: agent-0}
  request: {method: POST, host: management.azure.com, path: /subscriptions/...}
  arm: {operation: Microsoft.Storage/storageAccounts/listKeys/action}
  sql: {statementType: SELECT, tables: [orders], hasWhere: true}
  now: 2026-03-04T12:00:00Z

When target.name is not given, the target is found from target.host (or
request.host) and target.port as the proxy would. The output gives the
decision, the deciding rule, every rule that matched with the value of each
conjunct of its condition, and the masks that apply.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if output != "table" && output != "json" && output != "yaml" {
				return usageErrorf("--output %q: want table, json or yaml", output)
			}
			if reqFile == "" {
				return usageErrorf("--request is required")
			}
			docs, err := readPolicyFiles(files)
			if err != nil {
				return err
			}
			b, err := policy.Load(docs, policy.Options{})
			if err != nil {
				return err
			}
			req, err := readTestRequest(reqFile)
			if err != nil {
				return err
			}
			if err := fillTarget(b, req); err != nil {
				return err
			}
			ex, err := b.Explain(cmd.Context(), req)
			if err != nil {
				return err
			}
			res := newTestResult(ex, all)
			switch output {
			case "json":
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			case "yaml":
				enc := yaml.NewEncoder(stdout)
				enc.SetIndent(2)
				if err := enc.Encode(res); err != nil {
					return err
				}
				return enc.Close()
			}
			return res.writeTable(stdout)
		},
	}
	cmd.Flags().StringVar(&reqFile, "request", "", "YAML file describing the request")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().BoolVar(&all, "all", false, "explain every rule, not only those that matched")
	return cmd
}

// readTestRequest reads REQ.yaml strictly: a misspelt field is an error.
func readTestRequest(path string) (*policy.Request, error) {
	y, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(y))
	dec.KnownFields(true)
	req := &policy.Request{}
	if err := dec.Decode(req); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read request %s: %w", path, err)
	}
	return req, nil
}

// fillTarget finds the target from the host when the request names none.
func fillTarget(b *policy.Bundle, req *policy.Request) error {
	t := &req.Target
	if t.Name != "" {
		return nil
	}
	host := t.Host
	if host == "" {
		host = req.HTTP.Host
	}
	if host == "" {
		return nil
	}
	protocol := t.Protocol
	if protocol == "" {
		protocol = policy.ProtocolHTTPS
		if req.SQL.StatementType != "" {
			protocol = policy.ProtocolPostgres
		}
	}
	port := uint16(t.Port)
	if port == 0 {
		port = 443
		if protocol == policy.ProtocolPostgres {
			port = 5432
		}
	}
	tg, err := b.Target(host, port, protocol)
	if err != nil {
		return err
	}
	if tg == nil {
		return fmt.Errorf("policy test: %s:%d is no target of the policy: the proxy would pass it through uninspected", host, port)
	}
	t.Name, t.Host, t.Port, t.Protocol = tg.Name, host, int64(port), tg.Protocol
	return nil
}

// testResult is what policy test prints.
type testResult struct {
	Decision  string        `json:"decision" yaml:"decision"`
	Rule      string        `json:"rule,omitempty" yaml:"rule,omitempty"`
	Message   string        `json:"message,omitempty" yaml:"message,omitempty"`
	Error     string        `json:"error,omitempty" yaml:"error,omitempty"`
	Approval  *testApproval `json:"approval,omitempty" yaml:"approval,omitempty"`
	Rules     []testRule    `json:"rules" yaml:"rules"`
	Masks     []testMask    `json:"masks" yaml:"masks"`
	Detectors []string      `json:"detectors,omitempty" yaml:"detectors,omitempty"`
}

type testApproval struct {
	Approvers    []string `json:"approvers" yaml:"approvers"`
	MinApprovals int      `json:"minApprovals" yaml:"minApprovals"`
	Timeout      string   `json:"timeout" yaml:"timeout"`
	GrantFor     string   `json:"grantFor" yaml:"grantFor"`
	Hold         string   `json:"hold" yaml:"hold"`
}

type testRule struct {
	Name      string         `json:"name" yaml:"name"`
	Policy    string         `json:"policy" yaml:"policy"`
	Action    string         `json:"action" yaml:"action"`
	Matched   bool           `json:"matched" yaml:"matched"`
	Conjuncts []testConjunct `json:"conjuncts" yaml:"conjuncts"`
}

type testConjunct struct {
	Expr  string `json:"expr" yaml:"expr"`
	Value string `json:"value" yaml:"value"`
}

type testMask struct {
	Rule      string   `json:"rule" yaml:"rule"`
	JSONPath  string   `json:"jsonPath,omitempty" yaml:"jsonPath,omitempty"`
	Column    string   `json:"column,omitempty" yaml:"column,omitempty"`
	Detectors []string `json:"detectors,omitempty" yaml:"detectors,omitempty"`
}

func newTestResult(ex *policy.Explanation, all bool) *testResult {
	d := &ex.Decision
	res := &testResult{Decision: string(d.Action), Message: d.Message, Detectors: d.Detectors, Rules: []testRule{}, Masks: []testMask{}}
	if d.Rule != nil {
		res.Rule = d.Rule.Name
	}
	if ex.Err != nil {
		res.Error = ex.Err.Error()
	}
	if a := d.Approval; a != nil {
		res.Approval = &testApproval{Approvers: a.Approvers, MinApprovals: a.MinApprovals, Timeout: a.Timeout.String(), GrantFor: a.GrantFor.String(), Hold: a.Hold.String()}
	}
	for _, r := range ex.Rules {
		if !r.Matched && !all {
			continue
		}
		tr := testRule{Name: r.Rule.Name, Policy: r.Rule.Policy, Action: string(r.Rule.Action), Matched: r.Matched}
		for _, c := range r.Conjuncts {
			tr.Conjuncts = append(tr.Conjuncts, testConjunct(c))
		}
		res.Rules = append(res.Rules, tr)
	}
	for _, m := range d.Masks {
		tm := testMask{Rule: m.Rule, Column: m.Column, Detectors: m.Detectors}
		if m.JSONPath != nil {
			tm.JSONPath = m.JSONPath.String()
		}
		res.Masks = append(res.Masks, tm)
	}
	return res
}

func (res *testResult) writeTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "decision: %s\n", res.Decision)
	if res.Rule != "" {
		fmt.Fprintf(&b, "rule:     %s\n", res.Rule)
	}
	if res.Message != "" {
		fmt.Fprintf(&b, "message:  %s\n", res.Message)
	}
	if res.Error != "" {
		fmt.Fprintf(&b, "error:    %s\n", res.Error)
	}
	if a := res.Approval; a != nil {
		fmt.Fprintf(&b, "approval: approvers %s, minApprovals %d, timeout %s, grantFor %s, hold %s\n",
			strings.Join(a.Approvers, " "), a.MinApprovals, a.Timeout, a.GrantFor, a.Hold)
	}
	if len(res.Rules) == 0 {
		b.WriteString("rules:    none matched\n")
	} else {
		b.WriteString("rules:\n")
	}
	for _, r := range res.Rules {
		state := "matched"
		if !r.Matched {
			state = "not matched"
		}
		fmt.Fprintf(&b, "  %s (%s, policy %s): %s\n", r.Name, r.Action, r.Policy, state)
		for _, c := range r.Conjuncts {
			fmt.Fprintf(&b, "    %-5s  %s\n", c.Value, c.Expr)
		}
	}
	if len(res.Masks) == 0 {
		b.WriteString("masks:    none\n")
	} else {
		b.WriteString("masks:\n")
	}
	for _, m := range res.Masks {
		var what []string
		if m.JSONPath != "" {
			what = append(what, "jsonPath "+m.JSONPath)
		}
		if m.Column != "" {
			what = append(what, "column "+m.Column)
		}
		if len(m.Detectors) > 0 {
			what = append(what, "detectors "+strings.Join(m.Detectors, " "))
		}
		fmt.Fprintf(&b, "  %s (rule %s)\n", strings.Join(what, ", "), m.Rule)
	}
	if len(res.Detectors) > 0 {
		fmt.Fprintf(&b, "detectors: %s\n", strings.Join(res.Detectors, " "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
