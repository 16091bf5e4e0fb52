// SPDX-License-Identifier: Apache-2.0

// Detectors: true and false positives from realistic text, one table per
// detector.

package mask

import (
	"slices"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

func TestDetectorNamesArePolicys(t *testing.T) {
	if got, want := detectorNames[:], policy.KnownDetectors(); !slices.Equal(got, want) {
		t.Fatalf("detectors %v, policy knows %v", got, want)
	}
	for i := range matchers {
		if matchers[i].det < 0 || matchers[i].det >= len(detectorNames) {
			t.Fatalf("matcher %d has detector %d", i, matchers[i].det)
		}
	}
}

type detectCase struct {
	name string
	in   string
	want string // the masked text; "" means unchanged
}

func runDetect(t *testing.T, det string, cases []detectCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			got, res := maskText(t, tt.in, det)
			if got != want {
				t.Errorf("mask(%q)\n got %q\nwant %q", tt.in, got, want)
			}
			n := uint32(strings.Count(want, Marker(det)) - strings.Count(tt.in, Marker(det)))
			var counted uint32
			for _, a := range res.Applied {
				counted += a.Count
			}
			if counted != n {
				t.Errorf("counted %d matches (%+v), want %d", counted, res.Applied, n)
			}
		})
	}
}

func TestStorageKey(t *testing.T) {
	k := fakeStorageKey("key1")
	k2 := fakeStorageKey("key2")
	M := Marker("azure-storage-key")
	runDetect(t, "azure-storage-key", []detectCase{
		{"listKeys response", `{"keys":[{"keyName":"key1","value":"` + k + `","permissions":"FULL"},{"keyName":"key2","value":"` + k2 + `","permissions":"FULL"}]}`,
			`{"keys":[{"keyName":"key1","value":"` + M + `","permissions":"FULL"},{"keyName":"key2","value":"` + M + `","permissions":"FULL"}]}`},
		{"connection string", "DefaultEndpointsProtocol=https;AccountName=stprod;AccountKey=" + k + ";EndpointSuffix=core.windows.net",
			"DefaultEndpointsProtocol=https;AccountName=stprod;AccountKey=" + M + ";EndpointSuffix=core.windows.net"},
		{"short AccountKey value", "AccountName=devstoreaccount1;accountkey=Eby8vdM02xNOcqF", "AccountName=devstoreaccount1;accountkey=" + M},
		{"env line", "AZURE_STORAGE_KEY=" + k + "\n", "AZURE_STORAGE_KEY=" + M + "\n"},
		{"npm integrity sha512", `"integrity": "sha512-` + k + `"`, ""},
		{"longer base64 run", "data:" + k[:40] + k, ""},
		{"87 characters", "key " + k[1:] + " end", ""},
		{"no padding", "key " + strings.TrimRight(k, "=") + "AB end", ""},
		{"prose about account keys", "Rotate the account key regularly; AccountKey is secret.", ""},
		{"MyAccountKey= is another word", "MyAccountKey=abc", ""},
	})
}

func TestSAS(t *testing.T) {
	sig := fakeSig("blob")
	M := Marker("azure-sas")
	runDetect(t, "azure-sas", []detectCase{
		{"blob SAS URL", "https://st.blob.core.windows.net/c/b.txt?sp=r&st=2024-01-01T00:00:00Z&se=2024-01-02T00:00:00Z&spr=https&sv=2022-11-02&sr=b&sig=" + sig,
			"https://st.blob.core.windows.net/c/b.txt?sp=r&st=2024-01-01T00:00:00Z&se=2024-01-02T00:00:00Z&spr=https&sv=2022-11-02&sr=b&sig=" + M},
		{"sig first", "?sig=" + sig + "&se=2024", "?sig=" + M + "&se=2024"},
		{"bare token", "sv=2022-11-02&ss=b&srt=sco&sp=rl&sig=" + sig, "sv=2022-11-02&ss=b&srt=sco&sp=rl&sig=" + M},
		{"escaped ampersand in XML", "<Url>https://x/?sv=1&amp;sig=" + sig + "</Url>", "<Url>https://x/?sv=1&amp;sig=" + M + "</Url>"},
		{"JSON-escaped ampersand in text", `"u":"https://x/?sv=1\u0026sig=` + sig + `"`, `"u":"https://x/?sv=1\u0026sig=` + M + `"`},
		{"service bus token", "SharedAccessSignature sr=sb%3a%2f%2fns.servicebus.windows.net&sig=" + sig + "&se=1700000000&skn=RootManageSharedAccessKey",
			"SharedAccessSignature sr=sb%3a%2f%2fns.servicebus.windows.net&sig=" + M + "&se=1700000000&skn=RootManageSharedAccessKey"},
		{"short sig value", "?sig=abc&x=1", ""},
		{"word ending in sig", "?configsig=" + sig, ""},
		{"prose", "the sig= parameter carries the signature", ""},
	})
}

func TestConnectionString(t *testing.T) {
	k := fakeStorageKey("cs")
	M := Marker("azure-connection-string")
	runDetect(t, "azure-connection-string", []detectCase{
		{"storage", "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=" + k + ";EndpointSuffix=core.windows.net",
			"DefaultEndpointsProtocol=https;AccountName=st;AccountKey=" + M + ";EndpointSuffix=core.windows.net"},
		{"service bus", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + k[:44],
			"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + M},
		{"sql server", "Server=tcp:db.database.windows.net,1433;Initial Catalog=app;User ID=admin;Password=Hunter2!x;Encrypt=True;",
			"Server=tcp:db.database.windows.net,1433;Initial Catalog=app;User ID=admin;Password=" + M + ";Encrypt=True;"},
		{"password last", "Host=pg.postgres.database.azure.com;Username=app;Pwd=s3cr3t", "Host=pg.postgres.database.azure.com;Username=app;Pwd=" + M},
		{"quoted password", `Server=x;Password="a;b c";Database=d`, `Server=x;Password="` + M + `";Database=d`},
		{"odbc braces", "Driver={ODBC Driver 18};Server=x;PWD={p;w};", "Driver={ODBC Driver 18};Server=x;PWD={" + M + "};"},
		{"event hubs SAS", "Endpoint=sb://x/;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1;EntityPath=e",
			"Endpoint=sb://x/;SharedAccessSignature=" + M + ";EntityPath=e"},
		{"password in prose", "Enter Password=your own choice in the dialog", ""},
		{"password query parameter", "https://x/login?user=a&password=b", ""},
		{"empty value", "Server=x;Password=;Database=y", ""},
		{"SharedAccessKeyName is not a secret", "SharedAccessKeyName=RootManageSharedAccessKey", ""},
	})
}

func TestEntraSecret(t *testing.T) {
	s := fakeEntraSecret("app")
	M := Marker("entra-client-secret")
	runDetect(t, "entra-client-secret", []detectCase{
		{"JSON credential", `{"clientId":"11111111-2222-3333-4444-555555555555","clientSecret":"` + s + `"}`,
			`{"clientId":"11111111-2222-3333-4444-555555555555","clientSecret":"` + M + `"}`},
		{"env", "AZURE_CLIENT_SECRET=" + s + "\n", "AZURE_CLIENT_SECRET=" + M + "\n"},
		{"az output", "Password: " + s, "Password: " + M},
		{"too short", "xyz8Q~abcdefghij", ""},
		{"embedded in longer token", "prefix" + s, ""},
		{"no digit before Q~", "xyzaQ~" + s[6:], ""},
		{"too long", s + "abcdef", ""},
	})
}

func TestJWT(t *testing.T) {
	tok := defaultJWT()
	M := Marker("jwt")
	parts := strings.Split(tok, ".")
	runDetect(t, "jwt", []detectCase{
		{"bearer header in a log", "Authorization: Bearer " + tok + "\r\n", "Authorization: Bearer " + M + "\r\n"},
		{"JSON token response", `{"token_type":"Bearer","expires_in":3599,"access_token":"` + tok + `"}`, `{"token_type":"Bearer","expires_in":3599,"access_token":"` + M + `"}`},
		{"in a query", "https://x/?access_token=" + tok + "&x=1", "https://x/?access_token=" + M + "&x=1"},
		{"unsigned", fakeJWT(`{"alg":"none","typ":"JWT"}`, `{"sub":"x"}`)[:len(fakeJWT(`{"alg":"none","typ":"JWT"}`, `{"sub":"x"}`))-43] + " end", M + " end"},
		{"sentence end", "token " + tok + ". Next", "token " + M + ". Next"},
		{"JWE five parts, empty key", parts0(fakeJWT(`{"alg":"dir","enc":"A256GCM"}`, `x`)) + "..aXY.Y2lwaGVydGV4dA.dGFn", M},
		{"header without alg", fakeJWT(`{"typ":"JWT","kid":"abcdefgh"}`, `{"sub":"x"}`), ""},
		{"header not JSON", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX." + parts[1] + "." + parts[2], ""},
		{"base64 of JSON, one part", parts[0], ""},
		{"inside a longer word", "x" + tok, ""},
	})
}

func parts0(tok string) string { return strings.Split(tok, ".")[0] }

func TestPrivateKey(t *testing.T) {
	M := Marker("private-key")
	pk := fakePEM("PRIVATE KEY", "\n")
	rsa := fakePEM("RSA PRIVATE KEY", "\r\n")
	cert := strings.ReplaceAll(fakePEM("CERTIFICATE", "\n"), "CERTIFICATE", "CERTIFICATE")
	escaped := fakePEM("EC PRIVATE KEY", `\n`)
	runDetect(t, "private-key", []detectCase{
		{"PKCS8", "key:\n" + pk + "\nrest", "key:\n" + M + "\nrest"},
		{"PKCS1 CRLF", rsa, M},
		{"JSON-escaped newlines in text", `{"key":"` + escaped + `"}`, `{"key":"` + M + `"}`},
		{"truncated block", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA", M},
		{"certificate", cert, ""},
		{"public key", strings.ReplaceAll(pk, "PRIVATE", "PUBLIC"), ""},
		{"prose", "paste the -----BEGIN PRIVATE KEY----- header? no.", "paste the " + M + "? no."},
	})
}

func TestEmail(t *testing.T) {
	M := Marker("email")
	runDetect(t, "email", []detectCase{
		{"user principal", `"userPrincipalName":"alice.smith@contoso.onmicrosoft.com"`, `"userPrincipalName":"` + M + `"`},
		{"plus and subdomain", "mail bob+ops@mail.example.co.uk.", "mail " + M + "."},
		{"in angle brackets", "From: Carol <carol@example.org>", "From: Carol <" + M + ">"},
		{"two", "a@example.com,b@example.com", M + "," + M},
		{"retina image", "logo image@2x.png", ""},
		{"npm version", "lodash@4.17.21", ""},
		{"decorator", "@Override public", ""},
		{"no TLD", "root@localhost", ""},
		{"digit TLD", "x@10.0.0.1", ""},
		{"ARM api version", "Microsoft.Web/sites@2022-03-01", ""},
	})
}

func TestCreditCard(t *testing.T) {
	M := Marker("credit-card")
	runDetect(t, "credit-card", []detectCase{
		{"visa", "card 4111111111111111 ok", "card " + M + " ok"},
		{"grouped with spaces", "Visa 4111 1111 1111 1111 exp 12 2027", "Visa " + M + " exp 12 2027"},
		{"grouped with dashes", "5555-5555-5555-4444", M},
		{"amex 4-6-5", "3782 822463 10005", M},
		{"discover", `"pan":"6011111111111117"`, `"pan":"` + M + `"`},
		{"jcb", "3530111333300000", M},
		{"diners 14", "30569309025904", M},
		{"after a count", "12 4111111111111111", "12 " + M},
		{"bad luhn", "4111111111111112", ""},
		{"unix ms timestamp", "1700000000000", ""},
		{"bad prefix", "9111111111111111", ""},
		{"decimal", "0.4111111111111111", ""},
		{"in a hex id", "a4111111111111111", ""},
		{"too long", "41111111111111111111", ""},
		{"GUID", "41111111-1111-1111-1111-111111111111", ""},
		{"phone", "+1 555 123 4567", ""},
		{"mixed separators", "4111 1111-1111 1111", ""},
	})
}

func TestIBAN(t *testing.T) {
	M := Marker("iban")
	runDetect(t, "iban", []detectCase{
		{"GB electronic", "IBAN: GB82WEST12345698765432.", "IBAN: " + M + "."},
		{"GB printed", "GB82 WEST 1234 5698 7654 32", M},
		{"DE", `"iban":"DE89370400440532013000"`, `"iban":"` + M + `"`},
		{"FR with letter", "FR1420041010050500013M02606", M},
		{"NL", "NL91ABNA0417164300", M},
		{"NO shortest", "NO9386011117947", M},
		{"bad check digits", "GB83WEST12345698765432", ""},
		{"wrong length", "GB82WEST1234569876543", ""},
		{"unknown country", "ZZ82WEST12345698765432", ""},
		{"inside a word", "XGB82WEST12345698765432", ""},
		{"lower case", "gb82west12345698765432", ""},
		{"resource id", "/subscriptions/DE89370400440532013000x", ""},
	})
}

// TestAllDetectorsTogether: every detector on one realistic text, and
// overlapping candidates resolved by start, length, then detector order.
func TestAllDetectorsTogether(t *testing.T) {
	k := fakeStorageKey("all")
	in := "conn=DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + k + ";\nowner=alice@example.com token=" + defaultJWT() + "\n"
	got, res := maskText(t, in, policy.KnownDetectors()...)
	want := "conn=DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[MASKED:azure-storage-key];\nowner=[MASKED:email] token=[MASKED:jwt]\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	var names []string
	for _, a := range res.Applied {
		names = append(names, a.Detector)
	}
	if strings.Join(names, ",") != "azure-storage-key,jwt,email" {
		t.Errorf("applied %+v", res.Applied)
	}
}

// TestMinLen: no matcher matches a text shorter than its minLen (the
// prefilter relies on it), checked on the shortest match of each matcher.
func TestMinLen(t *testing.T) {
	shortest := []string{ // in matcher order
		fakeStorageKey("m"),
		"AccountKey=x",
		"sig=" + strings.Repeat("a", minSAS),
		"Pwd=x;",
		"abc1Q~" + strings.Repeat("a", 31),
		parts0(fakeJWT(`{"alg":"x"}`, "")) + ".e.",
		"-----BEGIN PRIVATE KEY-----",
		"a@b.co",
		"4222222222222",
		"NO9386011117947",
	}
	if len(shortest) != len(matchers) {
		t.Fatalf("%d examples for %d matchers", len(shortest), len(matchers))
	}
	for i, m := range matchers {
		name, s := detectorNames[m.det], shortest[i]
		if s0, _ := m.next([]byte(s), 0); s0 < 0 {
			t.Errorf("matcher %d (%s) does not match %q", i, name, s)
		}
		if len(s) < m.minLen {
			t.Errorf("matcher %d (%s): minLen %d, but %q (%d bytes) matches", i, name, m.minLen, s, len(s))
		}
		if len(s) != m.minLen && name != "jwt" && name != "azure-connection-string" {
			t.Errorf("matcher %d (%s): minLen %d, shortest example %d bytes", i, name, m.minLen, len(s))
		}
	}
}
