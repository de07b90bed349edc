//go:build ignore

// create_join - Go reference for bench/create_join.c: start a goroutine and
// wait for it with a WaitGroup, one at a time and in batches.
//
//	go run bench/go/create_join.go [-n THREADS] [-b BATCH]
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"
)

var sink [256]int64

func main() {
	n := flag.Int("n", 20000, "goroutines")
	batch := flag.Int("b", 100, "batch size")
	flag.Parse()

	t0 := time.Now()
	for i := 0; i < *n; i++ {
		var wg sync.WaitGroup
		wg.Add(1)
		go func(i int) {
			sink[i&255] = int64(i) + 1
			wg.Done()
		}(i)
		wg.Wait()
	}
	seq := float64(time.Since(t0).Nanoseconds()) / float64(*n)

	t1 := time.Now()
	for done := 0; done < *n; {
		k := *batch
		if *n-done < k {
			k = *n - done
		}
		var wg sync.WaitGroup
		wg.Add(k)
		for i := 0; i < k; i++ {
			go func(i int) {
				sink[i&255] = int64(i) + 1
				wg.Done()
			}(done + i)
		}
		wg.Wait()
		done += k
	}
	bat := float64(time.Since(t1).Nanoseconds()) / float64(*n)

	fmt.Printf("create_join (Go): %d goroutines one at a time: %.0f ns/thread\n", *n, seq)
	fmt.Printf("create_join (Go): %d goroutines in batches of %d: %.0f ns/thread\n", *n, *batch, bat)
	fmt.Printf("RESULT name=create_join_seq value=%.3f unit=ns/thread\n", seq)
	fmt.Printf("RESULT name=create_join_batch value=%.3f unit=ns/thread\n", bat)
}
