// SPDX-License-Identifier: Apache-2.0

// Authentication: the client's password over the terminated TLS (a JWT
// is verified), then the proxy's own login to the server — SCRAM-SHA-256,
// md5 or cleartext — with the agent's password or the node's credential.

package postgres

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
)

// authError refuses a session before it reaches the server.
type authError struct {
	state, msg string
}

func (e *authError) Error() string { return e.msg }

// authenticate asks the client for its password and checks it. It
// returns the password and the identity it proves (zero when it is not a
// token).
func (s *session) authenticate(ctx context.Context) (string, policy.Identity, error) {
	if err := s.writeClient((&pgwire.Authentication{Code: pgwire.AuthCleartextPassword}).Encode(nil)); err != nil {
		return "", policy.Identity{}, err
	}
	_ = s.cli.SetReadDeadline(time.Now().Add(s.h.cfg.HandshakeTimeout))
	typ, body, err := s.cliR.Next()
	if err != nil {
		return "", policy.Identity{}, fmt.Errorf("read password: %w", err)
	}
	var pm pgwire.PasswordMessage
	if typ != pgwire.TypePassword || pm.Decode(body) != nil {
		return "", policy.Identity{}, &authError{StateProtocolViolation, "expected a password message"}
	}
	password := string(pm.Password)
	jwt := looksLikeJWT(password)
	issuers := len(s.bundle.Issuers()) > 0
	switch {
	case jwt && issuers:
		if s.h.cfg.Identify == nil {
			return "", policy.Identity{}, &authError{StateInvalidPassword, "this node cannot verify tokens"}
		}
		id, err := s.h.cfg.Identify(ctx, s.bundle, password)
		if err != nil {
			return "", policy.Identity{}, &authError{StateInvalidPassword, fmt.Sprintf("password authentication failed for user %q: the token does not verify: %v", s.user, err)}
		}
		return password, id, nil
	case s.inject && issuers:
		// The agent proves who it is with a token; the node logs in.
		return "", policy.Identity{}, &authError{StateInvalidPassword, fmt.Sprintf("password authentication failed for user %q: target %s takes an access token as the password", s.user, s.target.Name)}
	}
	return password, policy.Identity{}, nil
}

// looksLikeJWT reports a compact JWS: three base64url parts whose header
// is JSON with an alg.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(s) < 20 {
		return false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(hdr, &h) == nil && h.Alg != ""
}

// connectUpstream dials the original destination, switches to TLS
// verified for the server name, sends the client's startup parameters
// (user replaced when the node's credential is injected) and logs in.
// It returns once the server said AuthenticationOk.
func (s *session) connectUpstream(ctx context.Context, password string) error {
	raw, err := s.h.sslRequest(ctx, s.dial, s.c.Upstream())
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	cfg := s.h.cfg.UpstreamTLS(s.name).Clone()
	cfg.NextProtos = []string{alpnPostgres}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, s.h.cfg.HandshakeTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		raw.Close()
		return fmt.Errorf("upstream tls with %s (%s): %w", s.name, s.c.Upstream(), err)
	}
	s.up = tc
	s.upRef.Store(tc)
	s.upR = pgwire.NewReader(tc, s.h.cfg.MaxMessage)

	start := pgwire.StartupMessage{ProtocolVersion: pgwire.ProtocolVersion30}
	for _, p := range s.startup.Params {
		if !strings.HasPrefix(p.Name, "_pq_.") {
			start.Params = append(start.Params, p)
		}
	}
	start.Set("user", s.upUser)
	_ = tc.SetDeadline(time.Now().Add(s.h.cfg.HandshakeTimeout))
	defer tc.SetDeadline(time.Time{})
	if _, err := tc.Write(start.Encode(nil)); err != nil {
		return fmt.Errorf("upstream startup: %w", err)
	}
	var (
		auth      pgwire.Authentication
		scram     *scramClient
		scramDone bool // the server proved it knows the verifier
	)
	for {
		typ, body, err := s.upR.Next()
		if err != nil {
			return fmt.Errorf("upstream authentication: %w", err)
		}
		switch typ {
		case pgwire.TypeErrorResponse:
			var e pgwire.ErrorResponse
			if e.Decode(typ, body) != nil {
				return errors.New("upstream authentication: malformed error")
			}
			return &upstreamError{&e}
		case pgwire.TypeNegotiateProtocolVersion, pgwire.TypeNoticeResponse:
			continue
		case pgwire.TypeAuthentication:
		default:
			return fmt.Errorf("upstream authentication: unexpected message %q", typ)
		}
		if err := auth.Decode(body); err != nil {
			return fmt.Errorf("upstream authentication: %w", err)
		}
		var reply []byte
		switch auth.Code {
		case pgwire.AuthOK:
			if scram != nil && !scramDone {
				return errors.New("upstream authentication: SCRAM ended without the server's signature")
			}
			return nil
		case pgwire.AuthCleartextPassword:
			reply = (&pgwire.PasswordMessage{Password: []byte(password)}).Encode(nil)
		case pgwire.AuthMD5Password:
			reply = (&pgwire.PasswordMessage{Password: []byte(md5Password(s.upUser, password, auth.Salt))}).Encode(nil)
		case pgwire.AuthSASL:
			if !auth.HasMechanism("SCRAM-SHA-256") {
				return fmt.Errorf("upstream offers SASL %v, not SCRAM-SHA-256", auth.Mechanisms)
			}
			if scram, err = newScram("", password); err != nil {
				return err
			}
			reply = (&pgwire.SASLInitialResponse{Mechanism: "SCRAM-SHA-256", Data: scram.first()}).Encode(nil)
		case pgwire.AuthSASLContinue:
			if scram == nil {
				return errors.New("upstream authentication: SASL continue before SASL")
			}
			final, err := scram.final(auth.Data)
			if err != nil {
				return fmt.Errorf("upstream authentication: %w", err)
			}
			reply = (&pgwire.SASLResponse{Data: final}).Encode(nil)
		case pgwire.AuthSASLFinal:
			if scram == nil {
				return errors.New("upstream authentication: SASL final before SASL")
			}
			if err := scram.verify(auth.Data); err != nil {
				return fmt.Errorf("upstream authentication: %w", err)
			}
			scramDone = true
			continue
		default:
			return fmt.Errorf("upstream asks for authentication method %d, which Interlock does not speak", auth.Code)
		}
		if _, err := tc.Write(reply); err != nil {
			return fmt.Errorf("upstream authentication: %w", err)
		}
	}
}

// upstreamError is an ErrorResponse of the server during login: relayed
// to the client as it is.
type upstreamError struct{ e *pgwire.ErrorResponse }

func (e *upstreamError) Error() string { return "upstream: " + e.e.Error() }

// md5Password is PostgreSQL's md5 response: "md5" + md5(md5(password +
// user) + salt).
func md5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	h := hex.EncodeToString(inner[:])
	outer := md5.Sum(append([]byte(h), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}
