// SPDX-License-Identifier: Apache-2.0

// SCRAM-SHA-256, client side (RFC 5802, RFC 7677), without channel
// binding: how the handler logs in to the server.

package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/interlockhq/interlock/l7proxy/postgres/internal/saslprep"
)

// Bounds on the server's iteration count: fewer is weak, more is a way
// to burn the proxy's CPU.
const (
	scramMinIterations = 4096
	scramMaxIterations = 1 << 22
)

// scramClient is one SCRAM-SHA-256 exchange. The gs2 header is "n,,":
// the proxy terminates the client's TLS, so it cannot bind to it, and it
// does not offer binding to its own (the server may still offer -PLUS).
type scramClient struct {
	user, password string
	nonce          string
	clientFirst    string // client-first-message-bare
	authMessage    string
	serverSig      []byte
}

// newScram starts an exchange for password, prepared with SASLprep as
// PostgreSQL prepares it (the password as it is when SASLprep refuses
// it, as libpq does); user may be empty (PostgreSQL takes the user from
// the startup message).
func newScram(user, password string) (*scramClient, error) {
	if p, err := saslprep.Prepare(password); err == nil {
		password = p
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("scram nonce: %w", err)
	}
	s := &scramClient{user: user, password: password, nonce: base64.StdEncoding.EncodeToString(b)}
	s.clientFirst = "n=" + saslName(user) + ",r=" + s.nonce
	return s, nil
}

// first returns the client-first-message.
func (s *scramClient) first() []byte { return []byte("n,," + s.clientFirst) }

// final takes the server-first-message and returns the client-final-
// message.
func (s *scramClient) final(serverFirst []byte) ([]byte, error) {
	attrs, err := scramAttrs(string(serverFirst))
	if err != nil {
		return nil, err
	}
	nonce, salt64, iter := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return nil, errors.New("scram: server nonce does not extend the client's")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, errors.New("scram: bad salt")
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < scramMinIterations || n > scramMaxIterations {
		return nil, fmt.Errorf("scram: iteration count %q out of [%d, %d]", iter, scramMinIterations, scramMaxIterations)
	}
	salted, err := pbkdf2.Key(sha256.New, s.password, salt, n, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("scram: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	withoutProof := "c=biws,r=" + nonce
	s.authMessage = s.clientFirst + "," + string(serverFirst) + "," + withoutProof
	proof := hmacSHA256(storedKey[:], s.authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSig = hmacSHA256(hmacSHA256(salted, "Server Key"), s.authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks the server-final-message: the server proves it knows the
// password's verifier too.
func (s *scramClient) verify(serverFinal []byte) error {
	attrs, err := scramAttrs(string(serverFinal))
	if err != nil {
		return err
	}
	if e, ok := attrs["e"]; ok {
		return fmt.Errorf("scram: server error %q", e)
	}
	sig, err := base64.StdEncoding.DecodeString(attrs["v"])
	if err != nil || s.serverSig == nil || !hmac.Equal(sig, s.serverSig) {
		return errors.New("scram: the server's signature does not verify")
	}
	return nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramAttrs parses "a=v,b=w".
func scramAttrs(msg string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(msg, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(k) != 1 {
			if kv == "" {
				continue
			}
			return nil, fmt.Errorf("scram: bad attribute %q", kv)
		}
		out[k] = v
	}
	return out, nil
}

// saslName escapes = and , in a user name.
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}
