//go:build ignore

// yield_pingpong - Go reference for bench/yield_pingpong.c: two goroutines
// alternate through an atomic turn variable, calling runtime.Gosched while it
// is not their turn.
//
//	go run bench/go/yield_pingpong.go [-n SWITCHES] [-t MAX_SECONDS]
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int64("n", 1000000, "hand-offs")
	maxS := flag.Int64("t", 2, "time cap in seconds")
	flag.Parse()

	var turn, stop int32
	var handoffs [2]int64
	capped := false
	t0 := time.Now()
	deadline := t0.Add(time.Duration(*maxS) * time.Second)
	var wg sync.WaitGroup
	wg.Add(2)
	for me := int32(0); me < 2; me++ {
		go func(me int32) {
			defer wg.Done()
			var mine int64
			for {
				for atomic.LoadInt32(&turn) != me {
					if atomic.LoadInt32(&stop) != 0 {
						handoffs[me] = mine
						return
					}
					runtime.Gosched()
				}
				if atomic.LoadInt32(&stop) != 0 {
					break
				}
				mine++
				if me == 0 && mine*2-1 >= *n {
					atomic.StoreInt32(&stop, 1)
				} else if me == 0 && mine&1023 == 0 && time.Now().After(deadline) {
					capped = true
					atomic.StoreInt32(&stop, 1)
				}
				atomic.StoreInt32(&turn, 1-me)
			}
			handoffs[me] = mine
		}(me)
	}
	wg.Wait()
	el := time.Since(t0)
	total := handoffs[0] + handoffs[1]
	ns := float64(el.Nanoseconds()) / float64(total)
	note := ""
	if capped {
		note = " (stopped at the time cap)"
	}
	fmt.Printf("yield_pingpong (Go): %d hand-offs in %.1f ms: %.0f ns/switch%s\n",
		total, float64(el.Nanoseconds())/1e6, ns, note)
	fmt.Printf("RESULT name=yield_pingpong value=%.3f unit=ns/switch\n", ns)
}
