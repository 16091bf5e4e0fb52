// SPDX-License-Identifier: Apache-2.0

// Benchmarks: a 4 KiB ARM listKeys response and a 1 MiB ARM resource list
// through JSON, and 1 MiB of log text through Text; MB/s and allocations.

package mask

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

// listKeysBody is an ARM storageAccounts/listKeys response padded to
// about 4 KiB with more keys (kerberos keys and rotated ones).
func listKeysBody() []byte {
	var b strings.Builder
	b.WriteString(`{"keys":[`)
	for i := 0; b.Len() < 4000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"creationTime":"2024-05-0%dT10:11:12.1234567Z","keyName":"key%d","value":"%s","permissions":"FULL"}`, i%9+1, i+1, fakeStorageKey(fmt.Sprint(i)))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// resourceListBody is a 1 MiB ARM list (GET /subscriptions/{s}/resources).
func resourceListBody() []byte {
	var b strings.Builder
	b.WriteString(`{"value":[`)
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-prod-%d/providers/Microsoft.Storage/storageAccounts/stprod%d",`+
			`"name":"stprod%d","type":"Microsoft.Storage/storageAccounts","location":"westeurope","kind":"StorageV2","sku":{"name":"Standard_LRS","tier":"Standard"},`+
			`"tags":{"owner":"team-%d","costCenter":"%d"},"properties":{"provisioningState":"Succeeded","creationTime":"2024-05-01T10:11:12.1234567Z",`+
			`"primaryEndpoints":{"blob":"https://stprod%d.blob.core.windows.net/","queue":"https://stprod%d.queue.core.windows.net/"},"minimumTlsVersion":"TLS1_2","allowBlobPublicAccess":false,"encryption":{"keySource":"Microsoft.Storage","services":{"blob":{"enabled":true,"keyType":"Account"}}},"networkAcls":{"bypass":"AzureServices","defaultAction":"Deny","ipRules":[]}}}`,
			i, i, i, i%17, 1000+i, i, i)
	}
	b.WriteString(`],"nextLink":"https://management.azure.com/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resources?api-version=2021-04-01&%24skiptoken=abc"}`)
	return []byte(b.String())
}

func benchJSON(b *testing.B, body []byte, paths []string, detectors []string) {
	var masks []*policy.MaskRule
	for _, p := range paths {
		masks = append(masks, &policy.MaskRule{JSONPath: jp(p), Rule: "r"})
	}
	m, err := New(masks, detectors, Options{Pool: NewPool()})
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.Reset(body)
		if _, err := m.JSON(context.Background(), io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListKeys4K(b *testing.B) {
	body := listKeysBody()
	b.Run("path", func(b *testing.B) { benchJSON(b, body, []string{"$.keys[*].value"}, nil) })
	b.Run("path+detectors", func(b *testing.B) { benchJSON(b, body, []string{"$.keys[*].value"}, policy.KnownDetectors()) })
	b.Run("detectors", func(b *testing.B) { benchJSON(b, body, nil, policy.KnownDetectors()) })
}

func BenchmarkList1M(b *testing.B) {
	body := resourceListBody()
	b.Run("none", func(b *testing.B) { benchJSON(b, body, nil, nil) })
	b.Run("path", func(b *testing.B) { benchJSON(b, body, []string{"$.value[*].properties.primaryEndpoints"}, nil) })
	b.Run("path+detectors", func(b *testing.B) {
		benchJSON(b, body, []string{"$.value[*].properties.primaryEndpoints"}, policy.KnownDetectors())
	})
	b.Run("detectors", func(b *testing.B) { benchJSON(b, body, nil, policy.KnownDetectors()) })
	b.Run("negative-index", func(b *testing.B) { benchJSON(b, body, []string{"$.value[-1].name"}, nil) })
}

func BenchmarkText1M(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "2024-05-01T10:11:%02d.123Z INFO request GET /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-%d status=200 dur=%dms\n", i%60, i, i%977)
	}
	body := []byte(sb.String())
	m, err := New(nil, policy.KnownDetectors(), Options{Pool: NewPool()})
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		if _, err := m.Text(context.Background(), io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
