//go:build ignore

// mutex_contention - Go reference for bench/mutex_contention.c: many
// goroutines increment one counter under one sync.Mutex (with -t 1: the
// cost of an uncontended Lock+Unlock pair).
//
//	go run bench/go/mutex_contention.go [-t THREADS] [-n INCREMENTS_PER_THREAD]
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

func main() {
	threads := flag.Int("t", 64, "goroutines")
	iters := flag.Int("n", 100000, "increments per goroutine")
	flag.Parse()

	var mu sync.Mutex
	var counter int64
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(*threads)
	wg.Add(*threads)
	for i := 0; i < *threads; i++ {
		go func() {
			defer wg.Done()
			ready.Done()
			<-start
			for j := 0; j < *iters; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	el := time.Since(t0)
	expect := int64(*threads) * int64(*iters)
	if counter != expect {
		fmt.Fprintf(os.Stderr, "mutex_contention (Go): counter %d, expected %d\n", counter, expect)
		os.Exit(1)
	}
	ops := float64(expect) / el.Seconds()
	fmt.Printf("mutex_contention (Go): %d goroutines x %d increments in %.1f ms: %.0f ops/s\n",
		*threads, *iters, float64(el.Nanoseconds())/1e6, ops)
	if *threads == 1 {
		fmt.Printf("RESULT name=mutex_uncontended value=%.3f unit=ns/pair\n", 1e9/ops)
	} else {
		fmt.Printf("RESULT name=mutex_contention value=%.3f unit=ops/s\n", ops)
	}
}
