// Targets that live on the agent side of the tunnel, reached by the remotedialer client over
// loopback TCP exactly as an agent reaches its kube-apiserver. They speak the same tiny wire
// shapes as the TypeScript targets in bench/targets/ so both tunnels carry identical bytes.
package main

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
)

// serveSink accepts connections that start with an 8-byte big-endian byte count, reads and
// discards exactly that many bytes, then answers one byte 'k' so the sender can stop its clock.
func serveSink(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			var hdr [8]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			n := int64(binary.BigEndian.Uint64(hdr[:]))
			if _, err := io.CopyN(io.Discard, c, n); err != nil {
				return
			}
			_, _ = c.Write([]byte{'k'})
		}(c)
	}
}

// serveSource reads the 8-byte count and answers with that many bytes in chunk-sized writes.
func serveSource(l net.Listener, chunk int) {
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = 0x5a
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			var hdr [8]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			for left := int64(binary.BigEndian.Uint64(hdr[:])); left > 0; {
				b := buf
				if int64(len(b)) > left {
					b = b[:left]
				}
				w, err := c.Write(b)
				if err != nil {
					return
				}
				left -= int64(w)
			}
			// Wait for the reader to hang up, so no byte is cut off by our close.
			_, _ = io.Copy(io.Discard, c)
		}(c)
	}
}

// serveStall accepts connections and never reads from them: the head-of-line experiment
// fills such a stream until the tunnel's backpressure stops its writer.
func serveStall(l net.Listener, hold chan struct{}) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			<-hold
			c.Close()
		}(c)
	}
}

// echoHandler answers every request with its own body (1 KiB in the latency runs).
func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}
