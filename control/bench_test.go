// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"fmt"
	"testing"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// BenchmarkIngest uploads realistic chunks (HTTPS sessions with Azure
// operations, decisions and masked JSON responses) from one node over
// mTLS on loopback, each chunk made durable (fsync) before its ack.
// It reports events/s and stored (compressed) bytes per event.
func BenchmarkIngest(b *testing.B) {
	for _, perChunk := range []int{64, 512} {
		b.Run(fmt.Sprintf("events=%d", perChunk), func(b *testing.B) {
			ts := startServer(b, b.TempDir(), newIssuer(b))
			ctx := context.Background()
			// Sessions of 10 exchanges: 32 events each.
			var evs []*interlockv1.SessionEvent
			for i := 0; len(evs) < perChunk*b.N; i++ {
				evs = append(evs, sessionSpec{id: fmt.Sprintf("s%06d", i), workload: "billing", subject: "app-1", target: "arm",
					op: "Microsoft.Storage/storageAccounts/listKeys/action", opened: time.Now(), exchanges: 10, outcome: interlockv1.Action_ACTION_ALLOW}.events()...)
			}
			chunks := make([]*interlockv1.UploadChunk, b.N)
			var stored, raw int
			for i := range chunks {
				chunks[i] = mkChunk(uint64(i+1), evs[i*perChunk:(i+1)*perChunk])
				stored += len(chunks[i].GetZstd())
				raw += int(chunks[i].GetUncompressedSize())
			}
			s, err := interlockv1.NewSessionServiceClient(ts.node(ts.enroll("vm1"))).Upload(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for _, c := range chunks {
				if err := s.Send(c); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Recv(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s.CloseSend()
			s.Recv()
			events := float64(perChunk * b.N)
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(stored)/events, "stored-B/event")
			b.ReportMetric(float64(raw)/events, "raw-B/event")
		})
	}
}
