// Command gen writes a hosts CSV for ipdesk's benchmarks: N hosts with
// distinct addresses, MACs and hostnames in the subnet 10.0.0.0/15 of the
// space "bench", in the format "ipdesk import hosts" reads.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/netip"
	"os"
)

func main() {
	n := flag.Int("n", 100000, "number of hosts")
	flag.Parse()
	if *n < 1 || *n > 130000 {
		fmt.Fprintln(os.Stderr, "gen: -n must be 1..130000 (the /15 holds that many)")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "space,address,mac,hostname,owner,phone,access_level,dhcp_reservation,description")
	a := netip.MustParseAddr("10.0.0.1")
	for i := 0; i < *n; i++ {
		fmt.Fprintf(w, "bench,%s,02:00:%02x:%02x:%02x:%02x,host%06d,Owner %d,+49 3591 %05d,%d,%t,generated host %d\n",
			a, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), i, i%977, i%5000, i%4, i%2 == 0, i)
		a = a.Next()
	}
}
