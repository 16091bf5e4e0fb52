// SPDX-License-Identifier: Apache-2.0

// Uploading the node's spool over the control plane connection.

package controlclient

import (
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/nodeagent/upload"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Uploader returns an uploader of sp's chunks to the control plane's
// SessionService over c's mTLS connection. Run it until the node stops,
// then close sp. The uploader settles the spool's chunk numbering with
// the control plane (spool.SkipTo) before it sends anything.
func (c *Client) Uploader(sp *spool.Spool, opts upload.Options) *upload.Uploader {
	if opts.Logger == nil {
		opts.Logger = c.log
	}
	return upload.New(interlockv1.NewSessionServiceClient(c.cc), sp, opts)
}
