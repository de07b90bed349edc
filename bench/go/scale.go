//go:build ignore

// scale - Go reference for bench/scale.c: N goroutines, each blocked on one
// condition variable, then one broadcast and every goroutine waited for.
//
//	go run bench/go/scale.go [-n THREADS] [-s STACK_KIB] [-m MAX_SECONDS]
//
// -s is accepted for the same command line and ignored (goroutine stacks
// grow); each goroutine keeps its index in a local across the wait, as the
// C threads keep theirs in a __thread variable.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func rssKiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	res, _ := strconv.ParseFloat(f[1], 64)
	return res * float64(os.Getpagesize()) / 1024
}

// CPU time (user + system, all threads) of this process, seconds.
func cpuSeconds() float64 {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
}

func label(n int) string {
	switch {
	case n%1000000 == 0:
		return fmt.Sprintf("%dm", n/1000000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

func main() {
	n := flag.Int("n", 100000, "goroutines")
	flag.Int("s", 16, "stack KiB (ignored)")
	maxS := flag.Int("m", 100, "stop creating after this many seconds")
	flag.Parse()

	var mu sync.Mutex
	cv := sync.NewCond(&mu)
	allin := sync.NewCond(&mu)
	arrived, target, goNow := 0, *n, false
	var bad int64
	var wg sync.WaitGroup

	rss0 := rssKiB()
	c0 := cpuSeconds()
	t0 := time.Now()
	stop := t0.Add(time.Duration(*maxS) * time.Second)
	have := 0
	for ; have < *n; have++ {
		if have&1023 == 0 && time.Now().After(stop) {
			break
		}
		wg.Add(1)
		go func(mine int) {
			defer wg.Done()
			mu.Lock()
			arrived++
			if arrived == target {
				allin.Signal()
			}
			for !goNow {
				cv.Wait()
			}
			mu.Unlock()
			if mine < 0 {
				atomic.AddInt64(&bad, 1)
			}
		}(have)
	}
	mu.Lock()
	target = have
	for arrived < have {
		allin.Wait()
	}
	t1 := time.Now()
	c1 := cpuSeconds()
	rss1 := rssKiB()
	goNow = true
	cv.Broadcast()
	mu.Unlock()
	wg.Wait()
	t2 := time.Now()

	create := t1.Sub(t0).Seconds()
	wake := t2.Sub(t1).Seconds()
	per := (rss1 - rss0) / float64(have)
	fmt.Printf("%d goroutines: create %.3f s (%.1f us each), %.2f KiB RSS each, wake+join %.3f s\n",
		have, create, create*1e6/float64(have), per, wake)
	lab := label(*n)
	fmt.Printf("RESULT name=scale_%s_alive value=%d unit=threads\n", lab, have)
	fmt.Printf("RESULT name=scale_%s_create value=%.3f unit=s\n", lab, create)
	fmt.Printf("RESULT name=scale_%s_create_each value=%.3f unit=us\n", lab, create*1e6/float64(have))
	fmt.Printf("RESULT name=scale_%s_create_cpu value=%.3f unit=us\n", lab, (c1-c0)*1e6/float64(have))
	fmt.Printf("RESULT name=scale_%s_rss value=%.3f unit=KiB/thread\n", lab, per)
	fmt.Printf("RESULT name=scale_%s_wake value=%.3f unit=s\n", lab, wake)
	if bad != 0 {
		os.Exit(1)
	}
}
