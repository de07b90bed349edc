//go:build ignore

// handoff_latency - Go reference for bench/handoff_latency.c: goroutine A
// makes goroutine B runnable (sync.Cond.Signal; B was waiting), takes
// t0 and enters syscall.Read on an empty pipe from syscall.Pipe (a blocking
// fd, so the read is a real blocking system call, not a netpoller park).  B
// takes t1 first thing and writes the byte that ends A's read.  With
// GOMAXPROCS=1 B runs only once sysmon retakes A's P.
//
//	go run bench/go/handoff_latency.go [-n TRIALS] [-t MAX_SECONDS]
package main

import (
	"flag"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 5000, "trials")
	maxS := flag.Int64("t", 2, "time cap in seconds")
	flag.Parse()

	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		panic(err)
	}
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) } // monotonic ns
	var mu sync.Mutex
	cvA, cvB := sync.NewCond(&mu), sync.NewCond(&mu)
	bWaiting, goTrial, quit := -1, -1, false
	var t1 int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := []byte{'x'}
		for i := 0; ; i++ {
			mu.Lock()
			bWaiting = i
			cvA.Signal()
			for goTrial < i && !quit {
				cvB.Wait()
			}
			t := now()
			q := quit
			mu.Unlock()
			if q {
				return
			}
			t1 = t
			if _, err := syscall.Write(p[1], buf); err != nil {
				panic(err)
			}
		}
	}()

	lat := make([]int64, 0, *n)
	early, capped := 0, false
	deadline := now() + *maxS*int64(time.Second)
	buf := make([]byte, 1)
	start := now()
	for i := 0; i < *n; i++ {
		mu.Lock()
		for bWaiting < i {
			cvA.Wait()
		}
		goTrial = i
		cvB.Signal()
		mu.Unlock()
		t0 := now()
		if r, err := syscall.Read(p[0], buf); r != 1 || err != nil {
			panic(fmt.Sprint("read: ", r, err))
		}
		d := t1 - t0
		if d < 0 {
			d, early = 0, early+1
		}
		lat = append(lat, d)
		if now() > deadline {
			capped = true
			break
		}
	}
	wall := now() - start
	mu.Lock()
	quit = true
	cvB.Signal()
	mu.Unlock()
	<-done

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	count := len(lat)
	p50 := float64(lat[(count-1)/2]) / 1e3
	p99 := float64(lat[int(float64(count-1)*0.99)]) / 1e3
	note := ""
	if capped {
		note = " (stopped at the time cap)"
	}
	fmt.Printf("handoff_latency (Go): %d trials in %.1f ms%s: p50 %.1f us, p99 %.1f us, max %.1f us; %d early\n",
		count, float64(wall)/1e6, note, p50, p99, float64(lat[count-1])/1e3, early)
	fmt.Printf("RESULT name=handoff_p50_us value=%.3f unit=us\n", p50)
	fmt.Printf("RESULT name=handoff_p99_us value=%.3f unit=us\n", p99)
}
