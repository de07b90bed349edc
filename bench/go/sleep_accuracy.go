//go:build ignore

// sleep_accuracy: the Go reference of bench/sleep_accuracy.c — how long
// time.Sleep(50µs) really takes (Go rounds timer waits to milliseconds on
// Linux's epoll_wait), and the CPU it costs.
package main

import (
	"flag"
	"fmt"
	"sort"
	"syscall"
	"time"
)

func cpu() float64 {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
}

func main() {
	n := flag.Int("n", 2000, "sleeps")
	us := flag.Int("u", 50, "microseconds")
	threads := flag.Int("t", 1, "goroutines")
	flag.Parse()
	d := make([]float64, *n**threads)
	c0, w0 := cpu(), time.Now()
	done := make(chan bool)
	for g := 0; g < *threads; g++ {
		go func(g int) {
			for i := 0; i < *n; i++ {
				t0 := time.Now()
				time.Sleep(time.Duration(*us) * time.Microsecond)
				d[g**n+i] = float64(time.Since(t0).Nanoseconds()) / 1000
			}
			done <- true
		}(g)
	}
	for g := 0; g < *threads; g++ {
		<-done
	}
	wall := time.Since(w0).Seconds()
	used := cpu() - c0
	pct := 100 * used / wall
	perSleep := 1e6 * used / float64(len(d))
	sort.Float64s(d)
	fmt.Printf("sleep_accuracy (Go): p50 %.1f us, p99 %.1f us, CPU %.1f%%\n", d[len(d)/2], d[len(d)*99/100], pct)
	fmt.Printf("RESULT name=sleep_p50_us value=%.3f unit=us\n", d[len(d)/2])
	fmt.Printf("RESULT name=sleep_p99_us value=%.3f unit=us\n", d[len(d)*99/100])
	fmt.Printf("RESULT name=sleep_cpu_pct value=%.3f unit=%%\n", pct)
	fmt.Printf("RESULT name=sleep_cpu_us value=%.3f unit=us/sleep\n", perSleep)
}
