// The three measurements, each taking a dial function so the same code runs through the
// remotedialer tunnel and directly: one-stream and many-stream throughput into a sink, and
// open-loop request/response latency at a fixed rate.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"time"
)

type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

type throughput struct {
	Bytes   int64   `json:"bytes"`
	Streams int     `json:"streams"`
	Seconds float64 `json:"seconds"`
	MiBps   float64 `json:"mibPerSecond"`
	// CPU of the whole process (both tunnel ends and the targets) per GiB moved.
	CPUMsPerGiB float64 `json:"cpuMsPerGiB"`
}

// cpuMs is this process's user + system CPU time in milliseconds.
func cpuMs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

type latency struct {
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	RatePerS  float64 `json:"ratePerSecond"`
	P50ms     float64 `json:"p50ms"`
	P90ms     float64 `json:"p90ms"`
	P99ms     float64 `json:"p99ms"`
	MaxMs     float64 `json:"maxMs"`
	LagP99ms  float64 `json:"dispatchLagP99ms"`
	Completed int     `json:"completed"`
}

// sendToSink writes the 8-byte header and n bytes in chunk-sized writes, then waits for 'k'.
func sendToSink(ctx context.Context, dial dialFunc, addr string, n int64, chunk []byte) error {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(n))
	if _, err := c.Write(hdr[:]); err != nil {
		return err
	}
	for left := n; left > 0; {
		b := chunk
		if int64(len(b)) > left {
			b = b[:left]
		}
		w, err := c.Write(b)
		if err != nil {
			return err
		}
		left -= int64(w)
	}
	var ack [1]byte
	_, err = io.ReadFull(c, ack[:])
	return err
}

// receiveFromSource asks a source for n bytes and reads them all.
func receiveFromSource(ctx context.Context, dial dialFunc, addr string, n int64) error {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(n))
	if _, err := c.Write(hdr[:]); err != nil {
		return err
	}
	_, err = io.CopyN(io.Discard, c, n)
	return err
}

// measureThroughput moves total bytes split evenly over `streams` concurrent connections.
// With download set, the bytes flow from a source on the agent side towards the dialer.
func measureThroughput(ctx context.Context, dial dialFunc, addr string, total int64, streams int, chunkSize int, download bool) (throughput, error) {
	chunk := bytes.Repeat([]byte{0x5a}, chunkSize)
	per := total / int64(streams)
	cpu0 := cpuMs()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := 0; i < streams; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if download {
				err = receiveFromSource(ctx, dial, addr, per)
			} else {
				err = sendToSink(ctx, dial, addr, per, chunk)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	close(errs)
	if err := <-errs; err != nil {
		return throughput{}, err
	}
	cpu := cpuMs() - cpu0
	moved := per * int64(streams)
	return throughput{
		Bytes: moved, Streams: streams, Seconds: secs, MiBps: float64(moved) / secs / (1 << 20),
		CPUMsPerGiB: cpu / (float64(moved) / (1 << 30)),
	}, nil
}

// measureLatency sends POSTs of `payload` bytes at `rate` per second for `d`, open loop: each
// request starts at its scheduled time whether or not earlier ones have answered. Latency is
// taken from the actual dispatch; the dispatch lag (actual minus scheduled) is reported too.
func measureLatency(client *http.Client, url string, payload int, rate float64, d time.Duration) latency {
	body := bytes.Repeat([]byte{0x61}, payload)
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]float64, n)
	lag := make([]float64, n)
	ok := make([]bool, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * interval)
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer wg.Done()
			t0 := time.Now()
			lag[i] = float64(t0.Sub(at)) / 1e6
			resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(got) != payload || resp.StatusCode != 200 {
				return
			}
			lat[i] = float64(time.Since(t0)) / 1e6
			ok[i] = true
		}(i, at)
	}
	wg.Wait()
	var good []float64
	for i, v := range lat {
		if ok[i] {
			good = append(good, v)
		}
	}
	sort.Float64s(good)
	sort.Float64s(lag)
	return latency{
		Requests: n, Errors: n - len(good), Completed: len(good), RatePerS: rate,
		P50ms: percentile(good, 50), P90ms: percentile(good, 90), P99ms: percentile(good, 99),
		MaxMs: percentile(good, 100), LagP99ms: percentile(lag, 99),
	}
}

// percentile is nearest-rank on sorted data, the same definition as bench/lib/stats.ts.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0 // JSON has no NaN; "completed": 0 tells the reader
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
