package testrig

import (
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// HeapPeak samples the heap's object bytes until the returned function is
// called, which returns the highest figure seen: memory bounds are tested
// by what the heap held, never by time.
func HeapPeak() (stop func() uint64) { return HeapPeakEvery(500 * time.Microsecond) }

// HeapPeakEvery is HeapPeak sampling every interval: the benches sample
// less often, so that the sampler costs their figures nothing.
func HeapPeakEvery(interval time.Duration) (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}
