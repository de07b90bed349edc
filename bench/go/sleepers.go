//go:build ignore

// sleepers - Go reference for bench/sleepers.c: many goroutines that each
// sleep ROUNDS times.
//
//	go run bench/go/sleepers.go [-n THREADS] [-r ROUNDS] [-m SLEEP_MS]
package main

import (
	"flag"
	"fmt"
	"sync"
	"syscall"
	"time"
)

func rusage() syscall.Rusage {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return r
}

func cpuMs(r syscall.Rusage) float64 {
	return float64(r.Utime.Sec+r.Stime.Sec)*1e3 + float64(r.Utime.Usec+r.Stime.Usec)/1e3
}

func main() {
	n := flag.Int("n", 10000, "goroutines")
	rounds := flag.Int("r", 10, "sleeps per goroutine")
	ms := flag.Int("m", 10, "sleep length in ms")
	flag.Parse()

	c0 := cpuMs(rusage())
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(*n)
	for i := 0; i < *n; i++ {
		go func() {
			defer wg.Done()
			for r := 0; r < *rounds; r++ {
				time.Sleep(time.Duration(*ms) * time.Millisecond)
			}
		}()
	}
	created := time.Since(t0)
	wg.Wait()
	wall := float64(time.Since(t0).Nanoseconds()) / 1e6
	fmt.Printf("sleepers (Go): %d goroutines x %d sleeps of %d ms: wall %.1f ms (ideal %d ms; creating took %.1f ms)\n",
		*n, *rounds, *ms, wall, *rounds**ms, float64(created.Nanoseconds())/1e6)
	r := rusage()
	fmt.Printf("RESULT name=sleepers value=%.3f unit=ms\n", wall)
	fmt.Printf("RESULT name=sleepers_cpu_ms value=%.3f unit=ms\n", cpuMs(r)-c0)
	fmt.Printf("RESULT name=sleepers_maxrss_kb value=%d unit=KiB\n", r.Maxrss)
}
