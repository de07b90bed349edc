//go:build ignore

// pipe_pingpong - Go reference for bench/pipe_pingpong.c: two goroutines
// bounce one byte over two os.Pipe pipes (non-blocking fds on Go's
// netpoller).  Round trips per second.
//
//	go run bench/go/pipe_pingpong.go [-n ROUND_TRIPS] [-t MAX_SECONDS]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	n := flag.Int64("n", 1000000, "round trips")
	maxS := flag.Int64("t", 2, "time cap in seconds")
	flag.Parse()

	r1, w1, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 1)
		for {
			if _, err := r1.Read(b); err == io.EOF {
				return
			} else if err != nil {
				panic(err)
			}
			if _, err := w2.Write(b); err != nil {
				panic(err)
			}
		}
	}()

	b := []byte{'x'}
	t0 := time.Now()
	deadline := t0.Add(time.Duration(*maxS) * time.Second)
	var count int64
	capped := false
	for count < *n {
		if _, err := w1.Write(b); err != nil {
			panic(err)
		}
		if _, err := r2.Read(b); err != nil {
			panic(err)
		}
		count++
		if count&1023 == 0 && time.Now().After(deadline) {
			capped = true
			break
		}
	}
	el := time.Since(t0)
	w1.Close()
	<-done
	secs := el.Seconds()
	note := ""
	if capped {
		note = " (stopped at the time cap)"
	}
	fmt.Printf("pipe_pingpong (Go): %d round trips in %.1f ms: %.0f round trips/s, %.0f ns each%s\n",
		count, secs*1e3, float64(count)/secs, float64(el.Nanoseconds())/float64(count), note)
	fmt.Printf("RESULT name=pipe_pingpong value=%.3f unit=roundtrips/s\n", float64(count)/secs)
}
