// SPDX-License-Identifier: Apache-2.0

// Which Azure endpoint a host name is: Resource Manager, a key vault or a
// storage account's Blob service, in the public and sovereign clouds.

package azure

import "strings"

// armHosts are the Resource Manager endpoints (public, US Government,
// China).
var armHosts = [...]string{
	"management.azure.com",
	"management.usgovcloudapi.net",
	"management.chinacloudapi.cn",
}

// vaultSuffixes are the Key Vault DNS suffixes.
var vaultSuffixes = [...]string{
	".vault.azure.net",
	".vault.usgovcloudapi.net",
	".vault.azure.cn",
}

// blobSuffixes are the Blob service DNS suffixes.
var blobSuffixes = [...]string{
	".blob.core.windows.net",
	".blob.core.usgovcloudapi.net",
	".blob.core.chinacloudapi.cn",
}

// classifyHost returns the plane of host and, for the data planes, the
// vault or account name (in the host's case). host may carry a :port and
// a trailing dot.
func classifyHost(host string) (Plane, string, *failure) {
	if len(host) > 255 {
		return 0, "", &failure{ErrUnknownHost, "host too long"}
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	for _, h := range armHosts {
		if fold(host, h) {
			return PlaneARM, "", nil
		}
	}
	for _, sfx := range vaultSuffixes {
		if name, ok := cutSuffixFold(host, sfx); ok {
			if !validVaultName(name) {
				return 0, "", &failure{ErrUnknownHost, "invalid key vault name"}
			}
			return PlaneKeyVault, name, nil
		}
	}
	for _, sfx := range blobSuffixes {
		if name, ok := cutSuffixFold(host, sfx); ok {
			if !validAccountName(name) {
				return 0, "", &failure{ErrUnknownHost, "invalid storage account name"}
			}
			return PlaneBlob, name, nil
		}
	}
	return 0, "", &failure{ErrUnknownHost, "not an Azure endpoint this package knows"}
}

// cutSuffixFold is strings.CutSuffix, ASCII case-insensitive.
func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || !fold(s[len(s)-len(suffix):], suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// hasSuffixFold is strings.HasSuffix, ASCII case-insensitive.
func hasSuffixFold(s, suffix string) bool {
	_, ok := cutSuffixFold(s, suffix)
	return ok
}

// validVaultName: 3 to 24 letters, digits and dashes, starting with a
// letter (one DNS label).
func validVaultName(s string) bool {
	if len(s) < 3 || len(s) > 24 || !isLetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// validAccountName: 3 to 24 lower-case letters and digits. Hosts are
// case-insensitive, so upper case is accepted too.
func validAccountName(s string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
