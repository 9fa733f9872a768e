package testdb

import (
	"net"
	"testing"
)

// Unanswering listens on a free 127.0.0.1 port that accepts connections
// and never answers (a hung server, a black-holed host), until the test
// ends, and returns its address (host:port).
func Unanswering(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, say nothing
		}
	}()
	return ln.Addr().String()
}
