// SPDX-License-Identifier: Apache-2.0

// Package tlsterm holds the pieces of TLS termination: reading a
// connection's ClientHello without consuming it ([Peek]), replaying the
// peeked bytes to crypto/tls ([Conn]), minting short-lived leaves for the
// names clients ask for with the node's intermediate CA ([Minter]), and
// the client configuration of the proxy's own, verified, upstream
// connections ([Upstream]).
//
// A handler peeks, decides from [Hello.ServerName] whether the connection
// is a target, and then either passes it through (writing [Hello.Raw]
// upstream first) or terminates it:
//
//	h, err := tlsterm.Peek(c, 5*time.Second)
//	...
//	tc := tls.Server(tlsterm.Replay(c, h.Raw, dst), minter.ServerConfig())
//
// Sharp edges:
//   - Peek parses the ClientHello itself: crypto/tls has no way to look at
//     a hello without answering it. The parser is bounded ([MaxHelloSize]
//     bytes read at most) and fuzzed against crypto/tls's own parser, but
//     it accepts only what it needs to: the SNI and ALPN extensions are
//     checked as crypto/tls checks them, other extensions are skipped.
//   - Peek sets a read deadline on the connection and clears it on return;
//     a deadline the caller had set is lost.
//   - After Peek, the bytes in Hello.Raw belong to the caller: whoever
//     reads the connection next must see them first (Replay, or a write
//     upstream before a splice).
//   - A [Minter] trusts its configuration: the intermediate must be a CA
//     whose key signs leaves (control/pki's node CA). Leaves are valid
//     [DefaultLeafLifetime] by default, never past the intermediate's own
//     expiry, and are renewed at two thirds of their lifetime.
//   - Names are minted for as the client sent them, lower-cased; only
//     host names and IP addresses are accepted, no wildcards. Which names
//     may be minted for at all is the caller's decision (the policy's
//     targets): a Minter signs whatever it is asked to.
//   - A Minter, its ServerConfig and [Upstream]'s configs are safe for
//     concurrent use; a [Conn] is not safe for concurrent Reads (crypto/tls
//     does not make any).
package tlsterm
