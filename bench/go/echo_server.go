//go:build ignore

// echo_server - Go reference for bench/echo_server.c: a goroutine per
// accepted connection echoes until EOF; one client goroutine per connection
// sends MESSAGES messages of BYTES bytes, reading each echo back.  Messages/s
// between the start signal and the last client's end, and peak RSS
// (getrusage ru_maxrss, KiB).  -P runs the clients in a second process (this
// program re-executed), for a hard RLIMIT_NOFILE below 2 fds a connection;
// the peak RSS is then the sum of both.
//
//	go run bench/go/echo_server.go [-c CONNECTIONS] [-k MESSAGES] [-s BYTES] [-P]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func clients(addr string, nconn, nmsg, size int, accepted func(int)) (float64, error) {
	conns := make([]net.Conn, nconn)
	for i := range conns {
		if i >= 1000 {
			accepted(i - 999)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, fmt.Errorf("connect #%d: %v", i, err)
		}
		c.(*net.TCPConn).SetLinger(0)
		conns[i] = c
	}
	accepted(nconn)
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	var mu sync.Mutex
	var firstErr error
	ready.Add(nconn)
	wg.Add(nconn)
	for i, c := range conns {
		go func(i int, c net.Conn) {
			defer wg.Done()
			defer c.Close()
			out := bytes.Repeat([]byte{byte('a' + i%26)}, size)
			in := make([]byte, size)
			ready.Done()
			<-start
			for m := 0; m < nmsg; m++ {
				out[0] = byte(m)
				_, err := c.Write(out)
				if err == nil {
					_, err = io.ReadFull(c, in)
				}
				if err == nil && !bytes.Equal(in, out) {
					err = fmt.Errorf("echo differs")
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}(i, c)
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	secs := time.Since(t0).Seconds()
	rate := float64(nconn*nmsg) / secs
	fmt.Printf("echo_server (Go): %d connections x %d messages of %d bytes: %.0f msgs/s (%.1f ms echoing)\n",
		nconn, nmsg, size, rate, secs*1e3)
	return rate, firstErr
}

func maxrss(who int) int64 {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return ru.Maxrss
}

func main() {
	nconn := flag.Int("c", 1000, "connections")
	nmsg := flag.Int("k", 100, "messages per connection")
	size := flag.Int("s", 64, "message size")
	split := flag.Bool("P", false, "clients in a second process")
	flag.Parse()

	if addr := os.Getenv("ECHO_CLIENT_ADDR"); addr != "" { // the -P child
		prog := os.NewFile(3, "progress")
		seen := 0
		buf := make([]byte, 4096)
		rate, err := clients(addr, *nconn, *nmsg, *size, func(k int) {
			for seen < k {
				n, err := prog.Read(buf)
				if err != nil {
					panic(err)
				}
				seen += n
			}
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo_server (Go) client:", err)
			os.Exit(1)
		}
		fmt.Printf("CHILDRATE %f\n", rate)
		return
	}

	label := strconv.Itoa(*nconn)
	if *nconn%1000 == 0 {
		label = strconv.Itoa(*nconn/1000) + "k"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	accepted := 0
	var servers sync.WaitGroup
	var progW *os.File
	var child *exec.Cmd
	var childOut bytes.Buffer
	if *split {
		r, w, err := os.Pipe()
		if err != nil {
			panic(err)
		}
		progW = w
		child = exec.Command(os.Args[0], os.Args[1:]...)
		child.Env = append(os.Environ(), "ECHO_CLIENT_ADDR="+ln.Addr().String())
		child.ExtraFiles = []*os.File{r}
		child.Stdout = &childOut
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			panic(err)
		}
		r.Close()
	}
	go func() {
		for i := 0; i < *nconn; i++ {
			c, err := ln.Accept()
			if err != nil {
				panic(err)
			}
			servers.Add(1)
			go func(c net.Conn) {
				defer servers.Done()
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}(c)
			if progW != nil {
				progW.Write([]byte{'a'})
			}
			mu.Lock()
			accepted++
			cond.Broadcast()
			mu.Unlock()
		}
	}()
	var rate float64
	if *split {
		if err := child.Wait(); err != nil {
			fmt.Fprintln(os.Stderr, "echo_server (Go): client process:", err)
			os.Exit(1)
		}
		os.Stdout.Write(bytes.ReplaceAll(childOut.Bytes(), []byte("CHILDRATE"), []byte("client rate")))
		fmt.Sscanf(string(childOut.Bytes()[bytes.Index(childOut.Bytes(), []byte("CHILDRATE")):]), "CHILDRATE %f", &rate)
	} else {
		rate, err = clients(ln.Addr().String(), *nconn, *nmsg, *size, func(k int) {
			mu.Lock()
			for accepted < k {
				cond.Wait()
			}
			mu.Unlock()
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo_server (Go):", err)
			os.Exit(1)
		}
	}
	mu.Lock()
	for accepted < *nconn {
		cond.Wait()
	}
	mu.Unlock()
	servers.Wait()
	rss := maxrss(syscall.RUSAGE_SELF)
	if *split {
		rss += maxrss(syscall.RUSAGE_CHILDREN)
	}
	fmt.Printf("echo_server (Go): maxrss %d KiB\n", rss)
	fmt.Printf("RESULT name=echo_%s_msgs_per_s value=%.3f unit=msgs/s\n", label, rate)
	fmt.Printf("RESULT name=echo_%s_maxrss_kb value=%.3f unit=KiB\n", label, float64(rss))
}
