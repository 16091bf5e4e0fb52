// SPDX-License-Identifier: Apache-2.0

// Package e2e holds end-to-end tests across the control plane and nodes:
// the real control.Server (package plane runs it in-process on 127.0.0.1,
// over its SQLite store, restartable on the same data) and nodes built
// from nodeagent/controlclient, the recorder, the spool and the uploader,
// talking real gRPC with mTLS. One test re-executes the test binary as a
// node process to kill it with SIGKILL mid-upload.
//
// The package itself is empty; everything is in its tests.
package e2e
