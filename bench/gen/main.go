// Command gen writes a hosts CSV for ipdesk's benchmarks: N hosts with
// distinct addresses, MACs and hostnames of the space "bench", from
// 10.0.0.1 on (after skipping the first -skip of them), in the format
// "ipdesk import hosts" reads. The benchmarks store them in 10.0.0.0/15
// (up to 131,070 hosts) or 10.0.0.0/13 (up to 524,286).
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
	skip := flag.Int("skip", 0, "hosts of the sequence to leave out first (to add to an earlier file)")
	flag.Parse()
	if *n < 1 || *skip < 0 || *skip+*n > 524286 {
		fmt.Fprintln(os.Stderr, "gen: -skip plus -n must be 1..524286 (the /13 holds that many)")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "space,address,mac,hostname,owner,phone,access_level,dhcp_reservation,description")
	a := netip.MustParseAddr("10.0.0.1")
	for range *skip {
		a = a.Next()
	}
	for i := *skip; i < *skip+*n; i++ {
		fmt.Fprintf(w, "bench,%s,02:00:%02x:%02x:%02x:%02x,host%06d,Owner %d,+49 3591 %05d,%d,%t,generated host %d\n",
			a, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), i, i%977, i%5000, i%4, i%2 == 0, i)
		a = a.Next()
	}
}
