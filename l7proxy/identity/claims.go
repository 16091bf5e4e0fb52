// SPDX-License-Identifier: Apache-2.0

// Identity: the caller as a verified token proves it, read from Entra ID's
// v1.0 and v2.0 access token claims.

package identity

import (
	"errors"
	"time"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// Identity is a verified token's caller. The embedded policy.Identity is
// what conditions see as `identity`.
type Identity struct {
	policy.Identity
	// Audience is the token's aud.
	Audience []string
	// Expiry and NotBefore are exp and nbf (NotBefore zero when absent).
	Expiry, NotBefore time.Time
	// Version is Entra's ver claim: "1.0", "2.0", or empty for other
	// issuers.
	Version string
}

// newIdentity reads claims, which must hold iss and exp. AppID is appid
// (v1.0) or else azp (v2.0); Groups and Roles keep only string values.
func newIdentity(claims map[string]any, aud []string) (*Identity, error) {
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return nil, errors.New("no exp claim")
	}
	id := &Identity{
		Identity: policy.Identity{
			Issuer:   str(claims["iss"]),
			Subject:  str(claims["sub"]),
			AppID:    str(claims["appid"]),
			ObjectID: str(claims["oid"]),
			Tenant:   str(claims["tid"]),
			Groups:   strs(claims["groups"]),
			Roles:    strs(claims["roles"]),
			Claims:   claims,
		},
		Audience: aud,
		Expiry:   exp,
		Version:  str(claims["ver"]),
	}
	if id.AppID == "" {
		id.AppID = str(claims["azp"])
	}
	if v, present := claims["nbf"]; present {
		if id.NotBefore, ok = numericDate(v); !ok {
			return nil, errors.New("nbf is not a number")
		}
	}
	return id, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// numericDate reads a JWT NumericDate (seconds since the epoch, JSON
// number).
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}
