//go:build ignore

// preempt - Go reference for bench/preempt.c.
//
// latency: a goroutine spins on an atomic flag with no calls while another
// sleeps until now+SLEEP_MS and records how late it runs; with GOMAXPROCS=1
// that is how long the hog takes to be (asynchronously) preempted.
// work: THREADS goroutines each run ITERS steps of an arithmetic recurrence;
// wall time.  Run with GODEBUG=asyncpreemptoff=1 for the no-preemption figure.
//
//	go run bench/go/preempt.go [-m latency|work|both] [-n TRIALS] [-s SLEEP_MS] [-w THREADS] [-i ITERS]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var sink [256]uint64

func worker(id int, iters int64) {
	x := uint64(id) + 1
	for i := int64(0); i < iters; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink[id&255] = x
}

func main() {
	mode := flag.String("m", "both", "latency|work|both")
	trials := flag.Int("n", 40, "latency trials")
	sleepMs := flag.Int64("s", 5, "sleep per trial (ms)")
	nthreads := flag.Int("w", 4, "workers")
	iters := flag.Int64("i", 200000000, "steps per worker")
	flag.Parse()
	lat := *mode == "latency" || *mode == "both"
	work := *mode == "work" || *mode == "both"
	if !lat && !work {
		fmt.Fprintln(os.Stderr, "bad -m")
		os.Exit(2)
	}
	if lat {
		var stop atomic.Int32
		var spins int64
		hogDone := make(chan struct{})
		go func() {
			var n int64
			for stop.Load() == 0 {
				n++
			}
			spins = n
			close(hogDone)
		}()
		late := make([]time.Duration, *trials)
		done := make(chan struct{})
		go func() {
			for i := range late {
				target := time.Now().Add(time.Duration(*sleepMs) * time.Millisecond)
				time.Sleep(time.Until(target))
				late[i] = time.Since(target)
			}
			close(done)
		}()
		<-done
		stop.Store(1)
		<-hogDone
		sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
		p50 := float64(late[(len(late)-1)/2]) / 1e6
		mx := float64(late[len(late)-1]) / 1e6
		fmt.Printf("preempt latency (Go): %d sleeps of %d ms beside a spinning hog: late by p50 %.3f ms, min %.3f ms, max %.3f ms (hog spun %d times)\n",
			*trials, *sleepMs, p50, float64(late[0])/1e6, mx, spins)
		fmt.Printf("RESULT name=preempt_latency_p50_ms value=%.3f unit=ms\n", p50)
		fmt.Printf("RESULT name=preempt_latency_max_ms value=%.3f unit=ms\n", mx)
	}
	if work {
		t0 := time.Now()
		var wg sync.WaitGroup
		for i := 0; i < *nthreads; i++ {
			wg.Add(1)
			go func(i int) { defer wg.Done(); worker(i, *iters) }(i)
		}
		wg.Wait()
		ms := float64(time.Since(t0).Nanoseconds()) / 1e6
		var check uint64
		for i := 0; i < *nthreads; i++ {
			check ^= sink[i&255]
		}
		fmt.Printf("preempt work (Go): %d goroutines x %d steps in %.1f ms (check %016x)\n", *nthreads, *iters, ms, check)
		fmt.Printf("RESULT name=preempt_work_ms value=%.3f unit=ms\n", ms)
	}
}
