// SPDX-License-Identifier: Apache-2.0

// Why a bearer token was refused: sentinel reasons, the TokenError that
// carries one, and the 401 that Azure Resource Manager would answer.

package identity

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Reasons a token is refused. A *TokenError matches its reason with
// errors.Is.
var (
	// ErrMissing: no bearer token was presented.
	ErrMissing = errors.New("no bearer token")
	// ErrMalformed: the token is not a signed JWT with the claims
	// required (iss, exp).
	ErrMalformed = errors.New("malformed token")
	// ErrUnknownIssuer: the token's issuer is not trusted by the policy.
	ErrUnknownIssuer = errors.New("untrusted issuer")
	// ErrSignature: the signature does not verify with the issuer's keys
	// (a forged token, an unknown key, an unsupported algorithm).
	ErrSignature = errors.New("invalid signature")
	// ErrExpired: the token's exp has passed (beyond the allowed skew).
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: the token's nbf is in the future (beyond the skew).
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrAudience: the token is for an audience the policy does not
	// accept from its issuer.
	ErrAudience = errors.New("wrong audience")
	// ErrKeysUnavailable: the issuer's signing keys could not be fetched;
	// nothing can be verified (not the client's fault).
	ErrKeysUnavailable = errors.New("issuer keys unavailable")
)

// TokenError says why a token was refused. Its fields hold what the token
// claimed, never the token itself.
type TokenError struct {
	// Reason is one of the Err* sentinels.
	Reason error
	// Issuer and Audience are the token's iss and aud, when it was read.
	Issuer   string
	Audience []string
	// Expiry is the token's exp, for ErrExpired.
	Expiry time.Time
	// Err is the underlying cause, if any.
	Err error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("identity: ")
	b.WriteString(e.Reason.Error())
	if e.Issuer != "" {
		fmt.Fprintf(&b, " (iss %q", e.Issuer)
		if len(e.Audience) > 0 {
			fmt.Fprintf(&b, ", aud %q", e.Audience)
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is matches the reason.
func (e *TokenError) Is(target error) bool { return target == e.Reason }

// Unwrap returns the underlying cause.
func (e *TokenError) Unwrap() error { return e.Err }

// fail returns a *TokenError for reason.
func fail(reason error, iss string, aud []string, cause error) *TokenError {
	return &TokenError{Reason: reason, Issuer: iss, Audience: aud, Err: cause}
}

// ARMError is the answer Azure Resource Manager gives for err, a refused
// token: the HTTP status, the error code of its
// {"error":{"code":…,"message":…}} body, and the message. The codes are
// ARM's own, so an SDK surfaces them as it would Azure's:
// AuthenticationFailed (missing or malformed), InvalidAuthenticationToken
// (bad signature, not yet valid), ExpiredAuthenticationToken,
// InvalidAuthenticationTokenAudience and InvalidAuthenticationTokenTenant
// (untrusted issuer). ErrKeysUnavailable, and an err that is not a
// *TokenError, give 503 ServiceUnavailable: the proxy cannot verify, so it
// refuses (fail closed) without blaming the client. now dates the message
// of an expired token.
func ARMError(err error, now time.Time) (status int, code, message string) {
	var te *TokenError
	if !errors.As(err, &te) || errors.Is(te.Reason, ErrKeysUnavailable) {
		return http.StatusServiceUnavailable, "ServiceUnavailable",
			"Interlock cannot verify the access token at the moment. Please retry."
	}
	const dotnetTime = "1/2/2006 3:04:05 PM" // how ARM prints times
	switch te.Reason {
	case ErrMissing:
		return http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
	case ErrMalformed:
		return http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format."
	case ErrExpired:
		return http.StatusUnauthorized, "ExpiredAuthenticationToken",
			fmt.Sprintf("The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
				te.Expiry.UTC().Format(dotnetTime), now.UTC().Format(dotnetTime))
	case ErrNotYetValid:
		return http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is not yet valid."
	case ErrAudience:
		return http.StatusUnauthorized, "InvalidAuthenticationTokenAudience",
			fmt.Sprintf("The access token has been obtained for wrong audience or resource '%s'.", strings.Join(te.Audience, "','"))
	case ErrUnknownIssuer:
		return http.StatusUnauthorized, "InvalidAuthenticationTokenTenant",
			fmt.Sprintf("The access token is from the wrong issuer '%s'.", te.Issuer)
	default: // ErrSignature
		return http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid."
	}
}
