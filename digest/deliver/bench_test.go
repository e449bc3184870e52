package deliver

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"gull/digest/deliver/smtptest"
)

// BenchmarkSMTPSend sends prebuilt 30 KB messages through a pool of 1 and
// of 4 connections to the in-process go-smtp server (which discards the
// data), with two senders per connection so the pool is never idle.
// The server shares the CPU, so this is a floor for a real relay.
//
//	go test -run '^$' -bench SMTPSend -benchtime 5s ./digest/deliver
//	go test -run '^$' -bench 'SMTPSend/conns=4' -benchtime 5s -cpuprofile cpu.out ./digest/deliver
//	go tool pprof -top deliver.test cpu.out
func BenchmarkSMTPSend(b *testing.B) {
	for _, conns := range []int{1, 4} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			srv := startServer(b, smtptest.Options{Discard: true})
			o := smtpOptions(srv, "none")
			o.Connections = conns
			s := newSMTP(b, o)
			msgs := make([]Outgoing, 64)
			for i := range msgs {
				msgs[i] = wireMessage(addr(i), 30<<10)
			}
			b.SetBytes(int64(len(msgs[0].Body)))
			var next atomic.Int64
			var failed atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range 2 * conns {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if err := s.Send(b.Context(), msgs[i%int64(len(msgs))]); err != nil {
							failed.Add(1)
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if got := len(srv.Messages()); got != b.N && failed.Load() == 0 {
				b.Fatalf("server accepted %d of %d", got, b.N)
			}
		})
	}
}
