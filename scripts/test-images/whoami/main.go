// A stand-in for traefik/whoami, for the tests of this repository: the README's demo app runs
// the image traefik/whoami:v1.10.4, which test machines cannot pull. Like the real one it is
// a single static binary in an image built FROM scratch (no shell, no wget, no curl), it
// answers every request with what it sees, and it takes its port from -port or
// WHOAMI_PORT_NUMBER (default 80). WHOAMI_LISTEN_HOST picks the address it binds (default:
// every interface); scripts/setup-engines.sh bakes 127.0.0.1 into the test image.
// Standard library only.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
)

func main() {
	port := 80
	if v := os.Getenv("WHOAMI_PORT_NUMBER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			log.Fatalf("WHOAMI_PORT_NUMBER %q is not a port; use 1-65535", v)
		}
		port = n
	}
	flag.IntVar(&port, "port", port, "the port to listen on (env WHOAMI_PORT_NUMBER)")
	name := flag.String("name", os.Getenv("WHOAMI_NAME"), "a name to print (env WHOAMI_NAME)")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hostname, _ := os.Hostname()
		if *name != "" {
			fmt.Fprintf(w, "Name: %s\n", *name)
		}
		fmt.Fprintf(w, "Hostname: %s\n", hostname)
		fmt.Fprintf(w, "RemoteAddr: %s\n", r.RemoteAddr)
		fmt.Fprintf(w, "%s %s %s\n", r.Method, r.URL.RequestURI(), r.Proto)
		fmt.Fprintf(w, "Host: %s\n", r.Host)
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range r.Header[k] {
				fmt.Fprintf(w, "%s: %s\n", k, v)
			}
		}
	})

	addr := net.JoinHostPort(os.Getenv("WHOAMI_LISTEN_HOST"), strconv.Itoa(port))
	log.Printf("whoami listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}
