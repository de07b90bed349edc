//go:build ignore

// forensics - Go reference for bench/forensics.c ("Schedule Forensics"):
// N goroutines released together, each doing ~MS ms of calibrated CPU work
// (runtime.Gosched every ~100 us with --yield) or one time.Sleep(MS) with
// --sleep; prints the same CONFIG / T / SUMMARY / RESULT lines.
//
//	go run bench/go/forensics.go [--threads N] [--ms N] [--yield | --sleep] [--quiet] [--iters-per-ms I]
//	go run bench/go/forensics.go --calibrate   (print iters_per_ms=I and exit)
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// spin: one LCG step per iteration, no clock, no call (Go >= 1.14 can still
// preempt it asynchronously, as goro does).
//
//go:noinline
func spin(n, x uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

var sink uint64

// threadCPU: CPU time of the calling OS thread (the goroutine is locked to it).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3 /* CLOCK_THREAD_CPUTIME_ID */, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// calibrate: iterations per ms of CPU; grow until one run takes >= 20 ms,
// then the fastest of 5 runs.
func calibrate() uint64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n, x := uint64(1<<16), uint64(1)
	var dt time.Duration
	for {
		a := threadCPU()
		x = spin(n, x)
		dt = threadCPU() - a
		if dt >= 20*time.Millisecond {
			break
		}
		n *= 2
	}
	best := dt
	for i := 0; i < 5; i++ {
		a := threadCPU()
		x = spin(n, x)
		if d := threadCPU() - a; d < best {
			best = d
		}
	}
	sink = x
	r := uint64(float64(n) * 1e6 / float64(best.Nanoseconds()))
	if r == 0 {
		r = 1
	}
	return r
}

func pct(v []time.Duration, p float64) time.Duration {
	k := int(p/100*float64(len(v)) + 0.999999)
	if k < 1 {
		k = 1
	}
	if k > len(v) {
		k = len(v)
	}
	return v[k-1]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func main() {
	threads := flag.Int("threads", 1000, "goroutines")
	workMs := flag.Int("ms", 10, "work (or sleep) per goroutine, ms")
	yield := flag.Bool("yield", false, "runtime.Gosched every ~100 us of work")
	sleep := flag.Bool("sleep", false, "one time.Sleep(ms) instead of the loop")
	quiet := flag.Bool("quiet", false, "no per-goroutine T lines")
	calib := flag.Bool("calibrate", false, "print iters_per_ms=I and exit")
	ipmOpt := flag.Uint64("iters-per-ms", 0, "skip the calibration, use this count")
	flag.Parse()
	if *threads <= 0 || *workMs <= 0 {
		fmt.Fprintln(os.Stderr, "forensics: --threads and --ms must be positive")
		os.Exit(2)
	}
	if *calib {
		fmt.Printf("iters_per_ms=%d\n", calibrate())
		return
	}
	mode := "plain"
	if *yield {
		mode = "yield"
	}
	if *sleep {
		mode = "sleep"
	}

	var ipm, chunk uint64
	if mode != "sleep" {
		ipm = *ipmOpt
		if ipm == 0 {
			ipm = calibrate()
		}
	}
	if mode == "yield" {
		chunk = ipm / 10
		if chunk == 0 {
			chunk = 1
		}
	}
	fmt.Printf("CONFIG threads=%d ms=%d mode=%s iters_per_ms=%d yield_every=%d gomaxprocs=%d\n",
		*threads, *workMs, mode, ipm, chunk, runtime.GOMAXPROCS(0))

	n := *threads
	starts := make([]time.Time, n)
	ends := make([]time.Time, n)
	sinks := make([]uint64, n)
	total := ipm * uint64(*workMs)
	gate := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)

	c0 := time.Now()
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-gate
			starts[i] = time.Now()
			x := uint64(i + 1)
			switch mode {
			case "plain":
				x = spin(total, x)
			case "yield":
				for d := uint64(0); d < total; d += chunk {
					c := chunk
					if total-d < c {
						c = total - d
					}
					x = spin(c, x)
					runtime.Gosched()
				}
			case "sleep":
				time.Sleep(time.Duration(*workMs) * time.Millisecond)
			}
			ends[i] = time.Now()
			sinks[i] = x
		}(i)
	}
	c1 := time.Now()
	ready.Wait()
	c2 := time.Now()
	t0 := time.Now()
	close(gate)
	done.Wait()
	t1 := time.Now()

	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	user := float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
	sys := float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6

	e := make([]time.Duration, n)
	for i := 0; i < n; i++ {
		e[i] = ends[i].Sub(t0)
		if !*quiet {
			fmt.Printf("T %d %d %d\n", i, starts[i].Sub(t0).Microseconds(), e[i].Microseconds())
		}
	}
	sort.Slice(e, func(a, b int) bool { return e[a] < e[b] })
	wall := ms(t1.Sub(t0))
	p50 := ms(pct(e, 50))
	ratio := 0.0
	if wall > 0 {
		ratio = p50 / wall
	}
	fmt.Printf("SUMMARY min_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f wall_ms=%.3f "+
		"p50_over_wall=%.3f spawn_ms=%.3f ready_ms=%.3f cpu_s=%.3f user_s=%.3f sys_s=%.3f\n",
		ms(e[0]), p50, ms(pct(e, 90)), ms(pct(e, 99)), ms(e[n-1]), wall, ratio,
		ms(c1.Sub(c0)), ms(c2.Sub(c0)), user+sys, user, sys)
	fmt.Printf("RESULT name=forensics_p50 value=%.3f unit=ms\n", p50)
	fmt.Printf("RESULT name=forensics_p99 value=%.3f unit=ms\n", ms(pct(e, 99)))
	fmt.Printf("RESULT name=forensics_max value=%.3f unit=ms\n", ms(e[n-1]))
	fmt.Printf("RESULT name=forensics_wall value=%.3f unit=ms\n", wall)
}
