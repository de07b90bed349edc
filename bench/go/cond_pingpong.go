//go:build ignore

// cond_pingpong - Go reference for bench/cond_pingpong.c: two goroutines pass
// a turn back and forth under one sync.Mutex, each waiting on its own
// sync.Cond.
//
//	go run bench/go/cond_pingpong.go [-n HANDOFFS] [-t MAX_SECONDS]
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"
)

func main() {
	n := flag.Int64("n", 200000, "hand-offs")
	maxS := flag.Int64("t", 2, "time cap in seconds")
	flag.Parse()

	var mu sync.Mutex
	cv := [2]*sync.Cond{sync.NewCond(&mu), sync.NewCond(&mu)}
	turn, stop, capped := 0, false, false
	var handoffs [2]int64
	t0 := time.Now()
	deadline := t0.Add(time.Duration(*maxS) * time.Second)
	var wg sync.WaitGroup
	wg.Add(2)
	for me := 0; me < 2; me++ {
		go func(me int) {
			defer wg.Done()
			var mine int64
			mu.Lock()
			for {
				for turn != me && !stop {
					cv[me].Wait()
				}
				if stop {
					break
				}
				mine++
				if me == 0 && mine*2-1 >= *n {
					stop = true
				} else if me == 0 && mine&1023 == 0 && time.Now().After(deadline) {
					stop, capped = true, true
				}
				turn = 1 - me
				cv[1-me].Signal()
			}
			mu.Unlock()
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
	fmt.Printf("cond_pingpong (Go): %d hand-offs in %.1f ms: %.0f ns/handoff%s\n",
		total, float64(el.Nanoseconds())/1e6, ns, note)
	fmt.Printf("RESULT name=cond_pingpong value=%.3f unit=ns/handoff\n", ns)
}
