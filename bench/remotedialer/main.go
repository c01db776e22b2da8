// remotedialer-bench runs a rancher/remotedialer server and client over loopback in one process
// and measures, with the payloads of bench/protocol.ts, one-stream throughput (server to agent
// and agent to server), 100-stream throughput,
// 1 KiB request/response latency at a fixed open-loop rate (through the tunnel and direct), and
// the same latency while one tunnelled connection is stalled. It prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"
)

const clientKey = "bench-agent"

type result struct {
	Remotedialer string      `json:"remotedialer"`
	Go           string      `json:"go"`
	GOMAXPROCS   int         `json:"gomaxprocs"`
	OneStream    throughput  `json:"oneStream"`
	OneStreamDn  throughput  `json:"oneStreamDownload"`
	Concurrent   throughput  `json:"concurrent"`
	Latency      latencyPair `json:"latency"`
	Stalled      latency     `json:"latencyWithStalledStream"`
}

type latencyPair struct {
	Tunnel latency `json:"tunnel"`
	Direct latency `json:"direct"`
}

func main() {
	oneBytes := flag.Int64("one-bytes", 256<<20, "bytes moved by the one-stream run")
	manyBytes := flag.Int64("many-bytes", 200<<20, "bytes moved in total by the concurrent run")
	streams := flag.Int("streams", 100, "concurrent streams")
	chunk := flag.Int("chunk", 64<<10, "write size")
	repeats := flag.Int("repeats", 3, "throughput repetitions (the median is kept)")
	payload := flag.Int("payload", 1024, "request and response body size")
	rate := flag.Float64("rate", 2000, "requests per second, open loop")
	dur := flag.Duration("duration", 5*time.Second, "latency run length")
	warm := flag.Duration("warmup", time.Second, "latency warm-up length (discarded)")
	flag.Parse()
	logrus.SetLevel(logrus.ErrorLevel)
	logrus.SetOutput(os.Stderr)

	out, err := run(*oneBytes, *manyBytes, *streams, *chunk, *repeats, *payload, *rate, *dur, *warm)
	if err != nil {
		fmt.Fprintln(os.Stderr, "remotedialer-bench:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}

func listen() net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	return l
}

func run(oneBytes, manyBytes int64, streams, chunk, repeats, payload int, rate float64, dur, warm time.Duration) (*result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sink, source, stall, echo := listen(), listen(), listen(), listen()
	hold := make(chan struct{})
	defer close(hold)
	go serveSink(sink)
	go serveSource(source, chunk)
	go serveStall(stall, hold)
	go http.Serve(echo, http.HandlerFunc(echoHandler))

	srv := remotedialer.New(func(r *http.Request) (string, bool, error) {
		return clientKey, true, nil
	}, remotedialer.DefaultErrorWriter)
	tl := listen()
	go http.Serve(tl, srv)
	url := "ws://" + tl.Addr().String() + "/connect"
	go remotedialer.ClientConnect(ctx, url, http.Header{}, nil, func(string, string) bool { return true }, nil)
	for i := 0; !srv.HasSession(clientKey); i++ {
		if i > 500 {
			return nil, fmt.Errorf("remotedialer client did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tunnel := dialFunc(srv.Dialer(clientKey))

	out := &result{Remotedialer: moduleVersion(), Go: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var err error
	if out.OneStream, err = medianThroughput(ctx, tunnel, sink.Addr().String(), oneBytes, 1, chunk, repeats, false); err != nil {
		return nil, fmt.Errorf("one stream: %w", err)
	}
	if out.OneStreamDn, err = medianThroughput(ctx, tunnel, source.Addr().String(), oneBytes, 1, chunk, repeats, true); err != nil {
		return nil, fmt.Errorf("one stream download: %w", err)
	}
	if out.Concurrent, err = medianThroughput(ctx, tunnel, sink.Addr().String(), manyBytes, streams, chunk, repeats, false); err != nil {
		return nil, fmt.Errorf("concurrent: %w", err)
	}

	target := "http://" + echo.Addr().String() + "/echo"
	tunnelClient := &http.Client{Transport: &http.Transport{DialContext: tunnel, MaxIdleConnsPerHost: 512}}
	directClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	measureLatency(directClient, target, payload, rate, warm)
	out.Latency.Direct = measureLatency(directClient, target, payload, rate, dur)
	measureLatency(tunnelClient, target, payload, rate, warm)
	out.Latency.Tunnel = measureLatency(tunnelClient, target, payload, rate, dur)

	// Head-of-line: a connection to a target that never reads, written to until the tunnel's
	// back-pressure blocks the writer, while the latency run repeats beside it.
	sc, err := tunnel(ctx, "tcp", stall.Addr().String())
	if err != nil {
		return nil, fmt.Errorf("stall dial: %w", err)
	}
	go func() {
		buf := make([]byte, chunk)
		for {
			if _, err := sc.Write(buf); err != nil {
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	out.Stalled = measureLatency(tunnelClient, target, payload, rate, dur)
	sc.Close()
	return out, nil
}

func medianThroughput(ctx context.Context, dial dialFunc, addr string, total int64, streams, chunk, repeats int, download bool) (throughput, error) {
	runs := make([]throughput, 0, repeats)
	for i := 0; i < repeats; i++ {
		t, err := measureThroughput(ctx, dial, addr, total, streams, chunk, download)
		if err != nil {
			return throughput{}, err
		}
		runs = append(runs, t)
	}
	// Median wall time and, separately, median CPU, as bench/protocol.ts does.
	cpus := make([]float64, len(runs))
	for i, r := range runs {
		cpus[i] = r.CPUMsPerGiB
	}
	sort.Float64s(cpus)
	sort.Slice(runs, func(a, b int) bool { return runs[a].MiBps < runs[b].MiBps })
	mid := runs[len(runs)/2]
	mid.CPUMsPerGiB = cpus[len(cpus)/2]
	return mid, nil
}

// moduleVersion reads the remotedialer version actually linked, so the report cannot drift
// from go.mod.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/rancher/remotedialer" {
				return d.Version
			}
		}
	}
	return "unknown"
}
