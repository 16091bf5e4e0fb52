// SPDX-License-Identifier: Apache-2.0

// The components made from this repository's packages: the Identifier of
// l7proxy/identity (a Verifier per policy bundle, kept while the bundle is
// in force) and the OperationFunc of l7proxy/azure.

package https

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/interlockhq/interlock/l7proxy/azure"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/l7proxy/policy"
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
			_, code, msg := identity.ARMError(err, time.Now())
			var te *identity.TokenError
			if !errors.As(err, &te) {
				code, msg = "InvalidAuthenticationToken", "The access token could not be verified."
			}
			return policy.Identity{}, &AuthError{Code: code, Message: msg}
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
