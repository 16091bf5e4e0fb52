// SPDX-License-Identifier: Apache-2.0

package azurefake

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// readAll reads n bytes of r with reads of size step, to cross chunk
// boundaries at odd places.
func readAll(t *testing.T, r io.Reader, step int) []byte {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, step)
	for {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestBlobContent(t *testing.T) {
	b := Blob{Account: "acct", Container: "data", Name: "dir/x.bin", Size: 3*blobChunk + 123}
	whole := readAll(t, b.NewReader(0), 1<<20)
	if int64(len(whole)) != b.Size {
		t.Fatalf("read %d bytes, want %d", len(whole), b.Size)
	}
	if again := readAll(t, b.NewReader(0), 777); !bytes.Equal(again, whole) {
		t.Fatal("content differs between readers or read sizes")
	}
	other := Blob{Account: "acct", Container: "data", Name: "dir/y.bin", Size: b.Size}
	if bytes.Equal(readAll(t, other.NewReader(0), 4096)[:64], whole[:64]) {
		t.Error("two blobs have the same content")
	}
	tests := []struct{ start, end int64 }{
		{0, 1}, {1, 2}, {blobChunk - 1, blobChunk + 1}, {blobChunk, 2 * blobChunk}, {12345, 3*blobChunk + 1},
		{b.Size - 1, b.Size}, {b.Size, b.Size}, {0, b.Size},
	}
	for _, tt := range tests {
		got := readAll(t, b.rangeReader(tt.start, tt.end), 1000)
		if !bytes.Equal(got, whole[tt.start:tt.end]) {
			t.Errorf("range [%d, %d): %d bytes, not the slice of the whole", tt.start, tt.end, len(got))
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		size int64
		want byteRange
		err  error
	}{
		{"bytes=0-", 10, byteRange{0, 10}, nil},
		{"bytes=3-5", 10, byteRange{3, 6}, nil},
		{"bytes=3-100", 10, byteRange{3, 10}, nil},
		{"bytes=9-9", 10, byteRange{9, 10}, nil},
		{"bytes=10-", 10, byteRange{}, errUnsatisfiable},
		{"bytes=0-", 0, byteRange{}, errUnsatisfiable},
		{"bytes=5-3", 10, byteRange{}, errBadRange},
		{"bytes=-3", 10, byteRange{}, errBadRange},
		{"bytes=a-", 10, byteRange{}, errBadRange},
		{"items=0-1", 10, byteRange{}, errBadRange},
		{"bytes=1", 10, byteRange{}, errBadRange},
	}
	for _, tt := range tests {
		got, err := parseRange(tt.in, tt.size)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("parseRange(%q, %d) = %v, %v; want %v, %v", tt.in, tt.size, got, err, tt.want, tt.err)
		}
	}
}

func TestBlobOptions(t *testing.T) {
	tests := []struct {
		name string
		blob Blob
		err  string
	}{
		{"ok", Blob{Account: "acct1", Container: "c-1", Name: "a/b", Size: 0}, ""},
		{"upper-case account", Blob{Account: "Acct1", Container: "c-1", Name: "a"}, "account"},
		{"short container", Blob{Account: "acct1", Container: "c", Name: "a"}, "container"},
		{"double dash", Blob{Account: "acct1", Container: "c--1", Name: "a"}, "container"},
		{"no name", Blob{Account: "acct1", Container: "c-1"}, "name"},
		{"negative size", Blob{Account: "acct1", Container: "c-1", Name: "a", Size: -1}, "size"},
	}
	for _, tt := range tests {
		_, err := Options{Blobs: []Blob{tt.blob}}.withDefaults()
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
	}
	b := Blob{Account: "acct1", Container: "c-1", Name: "a"}
	if _, err := (Options{Blobs: []Blob{b, b}}).withDefaults(); err == nil {
		t.Error("a duplicate blob was accepted")
	}
}

// blobClient is an azblob client of account that reaches srv, with a
// client secret credential that gets its token from srv.
func blobClient(t *testing.T, srv *Server, account string) *azblob.Client {
	t.Helper()
	hc := newClient(t, srv).hc
	c := srv.Clients()[0]
	cred, err := azidentity.NewClientSecretCredential(srv.TenantID(), c.ID, c.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: hc}})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := azblob.NewClient("https://"+account+".blob.core.windows.net/", cred,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc}})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

func TestBlobSDK(t *testing.T) {
	b := Blob{Account: "acct1", Container: "data", Name: "dir/big.bin", Size: 5<<20 + 17}
	srv := startTest(t, Options{Blobs: []Blob{b}})
	whole := readAll(t, b.NewReader(0), 1<<20)
	bc := blobClient(t, srv, "acct1")
	ctx := t.Context()

	// DownloadStream of the whole blob, read through the retry reader.
	get, err := bc.DownloadStream(ctx, "data", "dir/big.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	rr := get.NewRetryReader(ctx, &azblob.RetryReaderOptions{})
	got, err := io.ReadAll(rr)
	rr.Close()
	if err != nil || !bytes.Equal(got, whole) {
		t.Fatalf("DownloadStream: %d bytes (want %d), %v", len(got), len(whole), err)
	}
	if *get.ContentLength != b.Size || string(*get.ETag) != b.ETag() || *get.BlobType != blob.BlobTypeBlockBlob {
		t.Errorf("DownloadStream properties: length %d etag %s type %s", *get.ContentLength, *get.ETag, *get.BlobType)
	}

	// A range, with its MD5.
	get, err = bc.DownloadStream(ctx, "data", "dir/big.bin", &azblob.DownloadStreamOptions{
		Range: azblob.HTTPRange{Offset: 100_000, Count: 70_000}, RangeGetContentMD5: to.Ptr(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(get.Body)
	get.Body.Close()
	sum := md5.Sum(whole[100_000:170_000])
	if err != nil || !bytes.Equal(got, whole[100_000:170_000]) || !bytes.Equal(get.ContentMD5, sum[:]) {
		t.Errorf("ranged DownloadStream: %d bytes, %v, md5 %x want %x", len(got), err, get.ContentMD5, sum)
	}
	if *get.ContentRange != fmt.Sprintf("bytes 100000-169999/%d", b.Size) {
		t.Errorf("Content-Range %s", *get.ContentRange)
	}

	// DownloadBuffer: properties first (HEAD), then ranges in parallel.
	buf := make([]byte, b.Size)
	n, err := bc.DownloadBuffer(ctx, "data", "dir/big.bin", buf, &azblob.DownloadBufferOptions{BlockSize: 1 << 20, Concurrency: 3})
	if err != nil || n != b.Size || !bytes.Equal(buf, whole) {
		t.Errorf("DownloadBuffer: %d bytes, %v, equal %v", n, err, bytes.Equal(buf, whole))
	}
	props, err := bc.ServiceClient().NewContainerClient("data").NewBlobClient("dir/big.bin").GetProperties(ctx, nil)
	if err != nil || *props.ContentLength != b.Size || *props.AccessTier != "Hot" {
		t.Errorf("GetProperties: %+v, %v", props, err)
	}

	// Errors come back as Storage's codes.
	for _, tt := range []struct {
		container, name string
		code            bloberror.Code
	}{
		{"data", "nope", bloberror.BlobNotFound},
		{"other", "dir/big.bin", bloberror.ContainerNotFound},
	} {
		_, err := bc.DownloadStream(ctx, tt.container, tt.name, nil)
		if !bloberror.HasCode(err, tt.code) {
			t.Errorf("DownloadStream(%s, %s): %v, want %s", tt.container, tt.name, err, tt.code)
		}
	}
	var tokens int
	for _, r := range srv.Requests() {
		if r.Host == "acct1"+BlobSuffix && r.Claims["aud"] != ResourceStorage {
			t.Errorf("%s %s: token audience %v", r.Method, r.Path, r.Claims["aud"])
		}
		if r.Host == LoginHost && strings.HasSuffix(r.Path, "/token") {
			tokens++
			if r.Scope != "https://storage.azure.com/.default openid offline_access profile" {
				t.Errorf("token scope %q", r.Scope)
			}
		}
	}
	if tokens != 1 {
		t.Errorf("%d token requests, want 1", tokens)
	}
}

func TestBlobProtocol(t *testing.T) {
	b := Blob{Account: "acct1", Container: "data", Name: "x", Size: 1000}
	srv := startTest(t, Options{Blobs: []Blob{b}, StorageAccounts: []StorageAccount{{ResourceGroup: "rg", Name: "acct2"}}})
	c := newClient(t, srv)
	tok := mint(t, srv, TokenOptions{Resource: ResourceStorage})
	accountTok := mint(t, srv, TokenOptions{Resource: "https://acct1.blob.core.windows.net"})
	forged, err := srv.ForgeToken(TokenOptions{Resource: ResourceStorage})
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://acct1.blob.core.windows.net/data/x"
	const version = "2025-11-05"
	tests := []struct {
		name, method, url, token string
		header                   map[string]string
		status                   int
		code                     string     // x-ms-error-code
		body                     *byteRange // of the content, for 200 and 206
	}{
		{"no token", "GET", u, "", nil, 401, "NoAuthenticationInformation", nil},
		{"arm token", "GET", u, mint(t, srv, TokenOptions{}), nil, 401, "InvalidAuthenticationInfo", nil},
		{"expired", "GET", u, mint(t, srv, TokenOptions{Resource: ResourceStorage, Lifetime: -time.Minute}), nil, 401, "InvalidAuthenticationInfo", nil},
		{"forged", "GET", u, forged, nil, 401, "InvalidAuthenticationInfo", nil},
		{"shared key", "GET", u, "", map[string]string{"Authorization": "SharedKey acct1:c2ln"}, 403, "AuthenticationFailed", nil},
		{"sas", "GET", u + "?sv=2025-11-05&sig=abc", "", nil, 403, "AuthenticationFailed", nil},
		{"no version", "GET", u, tok, nil, 400, "MissingRequiredHeader", nil},
		{"old version", "GET", u, tok, map[string]string{"x-ms-version": "2015-02-21"}, 400, "InvalidHeaderValue", nil},
		{"whole", "GET", u, tok, map[string]string{"x-ms-version": version}, 200, "", &byteRange{0, 1000}},
		{"account audience", "GET", u, accountTok, map[string]string{"x-ms-version": version}, 200, "", nil},
		{"head", "HEAD", u, tok, map[string]string{"x-ms-version": version}, 200, "", nil},
		{"head missing", "HEAD", u + "y", tok, map[string]string{"x-ms-version": version}, 404, "BlobNotFound", nil},
		{"range header", "GET", u, tok, map[string]string{"x-ms-version": version, "Range": "bytes=10-19"}, 206, "", &byteRange{10, 20}},
		{"x-ms-range wins", "GET", u, tok, map[string]string{"x-ms-version": version, "Range": "bytes=10-19", "x-ms-range": "bytes=20-"}, 206, "", &byteRange{20, 1000}},
		{"past the end", "GET", u, tok, map[string]string{"x-ms-version": version, "x-ms-range": "bytes=1000-"}, 416, "InvalidRange", nil},
		{"md5 without range", "GET", u, tok, map[string]string{"x-ms-version": version, "x-ms-range-get-content-md5": "true"}, 400, "InvalidHeaderValue", nil},
		{"if-match other", "GET", u, tok, map[string]string{"x-ms-version": version, "If-Match": `"0x8D0"`}, 412, "ConditionNotMet", nil},
		{"if-match", "GET", u, tok, map[string]string{"x-ms-version": version, "If-Match": b.ETag()}, 200, "", nil},
		{"if-none-match", "GET", u, tok, map[string]string{"x-ms-version": version, "If-None-Match": b.ETag()}, 304, "", nil},
		{"put", "PUT", u, tok, map[string]string{"x-ms-version": version}, 405, "UnsupportedHttpVerb", nil},
		{"comp", "GET", u + "?comp=metadata", tok, map[string]string{"x-ms-version": version}, 400, "UnsupportedQueryParameter", nil},
		{"storage account without blobs", "GET", "https://acct2.blob.core.windows.net/data/x", tok, map[string]string{"x-ms-version": version}, 404, "ContainerNotFound", nil},
		{"unknown account", "GET", "https://acct3.blob.core.windows.net/data/x", tok, map[string]string{"x-ms-version": version}, 421, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			r := c.send(req)
			if r.status != tt.status || r.header.Get("x-ms-error-code") != tt.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.header.Get("x-ms-error-code"), tt.status, tt.code, r.raw)
			}
			if tt.code != "" && tt.method != "HEAD" && tt.status != 421 && !strings.Contains(string(r.raw), "<Code>"+tt.code+"</Code>") {
				t.Errorf("error body %s", r.raw)
			}
			if r.status == 401 {
				want := fmt.Sprintf("Bearer authorization_uri=https://login.microsoftonline.com/%s/oauth2/authorize resource_id=https://storage.azure.com", srv.TenantID())
				if got := r.header.Get("WWW-Authenticate"); got != want {
					t.Errorf("WWW-Authenticate\n got %s\nwant %s", got, want)
				}
			}
			if tt.body != nil {
				want := readAll(t, b.rangeReader(tt.body.start, tt.body.end), 4096)
				if !bytes.Equal(r.raw, want) {
					t.Errorf("body: %d bytes, want %v of the content", len(r.raw), *tt.body)
				}
			}
			if tt.method == "HEAD" && r.status == 200 && (r.header.Get("Content-Length") != "1000" || len(r.raw) != 0) {
				t.Errorf("HEAD: Content-Length %s, %d body bytes", r.header.Get("Content-Length"), len(r.raw))
			}
		})
	}
	if got := srv.Hosts(); got["acct1"+BlobSuffix] == "" || got["acct2"+BlobSuffix] == "" {
		t.Errorf("Hosts() = %v, want both accounts' Blob endpoints", got)
	}
}

// TestBlobRangeMD5 checks Content-MD5 on a range against an MD5 computed
// independently.
func TestBlobRangeMD5(t *testing.T) {
	b := Blob{Account: "acct1", Container: "data", Name: "x", Size: 200_000}
	whole := readAll(t, b.NewReader(0), 1<<16)
	sum := md5.Sum(whole[65_000:131_073])
	if got := rangeMD5(b, byteRange{65_000, 131_073}); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("rangeMD5 = %s", got)
	}
}
