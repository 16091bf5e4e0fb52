// SPDX-License-Identifier: Apache-2.0

// Client: the local API as `interlock exec` uses it.

package nodeagent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Client talks to a node agent's local API.
type Client struct {
	path string
	hc   *http.Client
}

// NewClient returns a client of the API socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	return &Client{path: path, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Status asks for the agent's status. An error here usually means no agent
// runs: it says where it looked.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

// AddWorkload registers a VM workload in the cgroup directory cgroup
// (absolute) and returns its cgroup id.
func (c *Client) AddWorkload(ctx context.Context, name, cgroup string) (uint64, error) {
	var res addResponse
	err := c.do(ctx, http.MethodPost, "/v1/workloads", addRequest{Name: name, Cgroup: cgroup}, &res)
	return res.CgroupID, err
}

// RemoveWorkload unregisters a workload.
func (c *Client) RemoveWorkload(ctx context.Context, cgroupID uint64) error {
	return c.do(ctx, http.MethodDelete, fmt.Sprintf("/v1/workloads/%d", cgroupID), nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://node"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the node agent at %s (is `interlock node` or `interlock up` running?): %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e apiError
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		return fmt.Errorf("node agent: %s: %s", resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
