//go:build ignore

// wait_crowded - Go reference for bench/wait_crowded.c: a ping-pong through
// two channels, alone and with CROWD goroutines blocked receiving from a
// third (Go's channel waits queue on the channel itself; its semaphores use
// the semaRoot treap that goro's wait table follows).
//
//	go run bench/go/wait_crowded.go [-c CROWD] [-n ROUNDS] [-t MAX_SECONDS]
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"
)

func main() {
	crowd := flag.Int("c", 50000, "goroutines parked beside the ping-pong")
	rounds := flag.Int("n", 20000, "round trips")
	maxS := flag.Int("t", 10, "stop a measurement after this many seconds")
	flag.Parse()

	ping, pong, park := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	measure := func() float64 {
		t0 := time.Now()
		end := t0.Add(time.Duration(*maxS) * time.Second)
		i := 0
		for ; i < *rounds && (i&255 != 0 || time.Now().Before(end)); i++ {
			ping <- struct{}{}
			<-pong
		}
		return float64(time.Since(t0).Nanoseconds()) / 1e3 / float64(i)
	}
	alone := measure()
	var wg sync.WaitGroup
	wg.Add(*crowd)
	for i := 0; i < *crowd; i++ {
		go func() {
			defer wg.Done()
			<-park
		}()
	}
	time.Sleep(100 * time.Millisecond) // let the crowd reach its receive
	crowded := measure()
	fmt.Printf("%d parked beside: %.2f us per round trip, alone %.2f us (%.1fx)\n", *crowd, crowded, alone, crowded/alone)
	fmt.Printf("RESULT name=wait_uncrowded value=%.3f unit=us/round\n", alone)
	fmt.Printf("RESULT name=wait_crowded value=%.3f unit=us/round\n", crowded)
	fmt.Printf("RESULT name=wait_crowd_size value=%d unit=threads\n", *crowd)
	close(park)
	close(ping)
	wg.Wait()
}
