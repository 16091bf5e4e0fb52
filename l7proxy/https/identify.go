// SPDX-License-Identifier: Apache-2.0

// The components made from this repository's packages: the Identifier of
// l7proxy/identity (a Verifier per policy bundle, kept while the bundle is
// in force), the OperationFunc of l7proxy/azure and the MaskFunc of
// l7proxy/mask.

package https

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/interlockhq/interlock/l7proxy/azure"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Verifiers returns an Identifier that verifies tokens with an
// identity.Verifier built from each bundle's issuers. The verifier (and
// the signing keys it fetched) is kept until a new bundle comes.
func Verifiers(opts identity.Options) Identifier {
	var (
		mu     sync.Mutex
		bundle *policy.Bundle
		v      *identity.Verifier
		verr   error
	)
	return func(ctx context.Context, b *policy.Bundle, token string) (policy.Identity, error) {
		mu.Lock()
		if b != bundle {
			bundle = b
			v, verr = identity.NewVerifier(b.Issuers(), opts)
		}
		cur, err := v, verr
		mu.Unlock()
		if err != nil {
			return policy.Identity{}, &AuthError{Code: "InvalidAuthenticationToken", Message: "no trusted issuer is configured: " + err.Error()}
		}
		id, err := cur.Verify(ctx, token)
		if err != nil {
			status, code, msg := identity.ARMError(err, time.Now())
			var te *identity.TokenError
			if !errors.As(err, &te) {
				status, code, msg = 401, "InvalidAuthenticationToken", "The access token could not be verified."
			}
			return policy.Identity{}, &AuthError{Status: status, Code: code, Message: msg}
		}
		return id.Identity, nil
	}
}

// AzureOperations is the OperationFunc of l7proxy/azure.
func AzureOperations(method, host, path, rawQuery string) (policy.ARM, error) {
	op, err := azure.Parse(method, host, path, rawQuery)
	if err != nil {
		return policy.ARM{}, err
	}
	return op.ARM(), nil
}

// Masks is the MaskFunc of l7proxy/mask. JSON and text bodies are masked
// as they stream (JSON up to mask.DefaultMaxBytes, text without a limit,
// in bounded memory); bodies of binary types are not scanned by
// detectors, and a JSON path rule on one fails closed.
func Masks(pool *mask.Pool) MaskFunc {
	return func(dst io.Writer, src io.Reader, contentType, contentEncoding string, d *policy.Decision) ([]*interlockv1.MaskApplied, error) {
		detectors := d.Detectors
		if binaryType(contentType) {
			if len(d.Masks) > 0 {
				return nil, fmt.Errorf("a JSON path mask applies, but the body is %s", contentType)
			}
			detectors = nil
		}
		opts := mask.Options{Pool: pool}
		if !mask.IsJSON(contentType) {
			opts.MaxBytes = -1 // text streams in bounded memory
		}
		m, err := mask.New(d.Masks, detectors, opts)
		if err != nil {
			return nil, err
		}
		body, err := mask.Decode(src, contentEncoding)
		if err != nil {
			return nil, err
		}
		defer body.Close()
		if m.Empty() {
			_, err := io.Copy(dst, body)
			return nil, err
		}
		res, err := m.Body(context.Background(), dst, body, contentType)
		return res.Proto(), err
	}
}

// binaryType reports content types that carry no text to scan.
func binaryType(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/octet-stream", mt == "application/zip", mt == "application/gzip", mt == "application/pdf",
		strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"):
		return true
	}
	return false
}
