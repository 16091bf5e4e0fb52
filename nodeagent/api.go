// SPDX-License-Identifier: Apache-2.0

// The local API: a root-only unix socket through which `interlock exec`
// registers the workload of the command it runs.

package nodeagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/nodeagent/workload"
)

// DefaultSocket is where the node agent serves its local API.
const DefaultSocket = "/run/interlock/node.sock"

// Status is what GET /v1/status answers.
type Status struct {
	ProxyPort uint16             `json:"proxyPort"`
	PinDir    string             `json:"pinDir"`
	Workloads []l7proxy.Workload `json:"workloads"`
	// CABundle is a PEM file with the CA that workloads must trust for TLS
	// termination; empty while the node terminates no TLS.
	CABundle string `json:"caBundle,omitempty"`
}

// addRequest is the body of POST /v1/workloads: a VM workload.
type addRequest struct {
	Name   string `json:"name"`
	Cgroup string `json:"cgroup"` // absolute path of its cgroup v2 directory
}

type addResponse struct {
	CgroupID uint64 `json:"cgroupId"`
}

type apiError struct {
	Error string `json:"error"`
}

// ServeAPI serves the local API on a unix socket at path (mode 0600, in a
// 0700 directory) until ctx is done.
func (a *Agent) ServeAPI(ctx context.Context, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("nodeagent: api socket dir: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("nodeagent: remove stale api socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("nodeagent: api socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("nodeagent: api socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", a.apiStatus)
	mux.HandleFunc("POST /v1/workloads", a.apiAdd)
	mux.HandleFunc("DELETE /v1/workloads/{id}", a.apiRemove)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	err = srv.Serve(ln)
	_ = os.Remove(path)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("nodeagent: api: %w", err)
}

// Status returns the agent's status.
func (a *Agent) Status() Status {
	return Status{ProxyPort: a.cfg.ProxyPort, PinDir: a.objs.PinDir(), Workloads: a.Workloads(), CABundle: a.cfg.CABundle}
}

func (a *Agent) apiStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.Status())
}

func (a *Agent) apiAdd(w http.ResponseWriter, r *http.Request) {
	var req addRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad request: " + err.Error()})
		return
	}
	id, err := a.attachVM(r.Context(), req.Name, req.Cgroup)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, addResponse{CgroupID: id})
}

func (a *Agent) apiRemove(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad cgroup id"})
		return
	}
	if err := a.Detach(id); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// attachVM attaches the VM workload name in the cgroup directory dir.
func (a *Agent) attachVM(ctx context.Context, name, dir string) (uint64, error) {
	if !filepath.IsAbs(dir) {
		return 0, fmt.Errorf("nodeagent: cgroup %q: want an absolute path", dir)
	}
	id, err := cgroups.ID(dir)
	if err != nil {
		return 0, fmt.Errorf("nodeagent: workload %s: %w", name, err)
	}
	return a.Attach(ctx, workload.Workload{Kind: workload.KindVM, Name: name, CgroupPath: dir, CgroupID: id})
}
