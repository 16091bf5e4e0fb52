// SPDX-License-Identifier: Apache-2.0

// Blob Storage steps: download a blob, as the azblob samples do, and say
// how much arrived and its SHA-256 (never the data).

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// download is a downloaded blob as the agent prints it.
type download struct {
	Bytes         int64  `json:"bytes"`
	ContentLength int64  `json:"contentLength"`
	SHA256        string `json:"sha256"`
	ETag          string `json:"etag,omitempty"`
}

// downloadBlob reads ACCOUNT CONTAINER BLOB with DownloadStream and the
// SDK's retry reader, hashing it as it streams.
func downloadBlob(ctx context.Context, a *agent, args []string) (any, error) {
	client, err := azblob.NewClient("https://"+args[0]+".blob.core.windows.net/", a.cred, nil)
	if err != nil {
		return nil, fmt.Errorf("blob client: %w", err)
	}
	get, err := client.DownloadStream(ctx, args[1], args[2], nil)
	if err != nil {
		return nil, err
	}
	body := get.NewRetryReader(ctx, &azblob.RetryReaderOptions{})
	defer body.Close()
	h := sha256.New()
	n, err := io.Copy(h, body)
	if err != nil {
		return nil, fmt.Errorf("read blob after %d bytes: %w", n, err)
	}
	d := download{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if get.ContentLength != nil {
		d.ContentLength = *get.ContentLength
	}
	if get.ETag != nil {
		d.ETag = string(*get.ETag)
	}
	return d, nil
}
