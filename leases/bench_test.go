package leases

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchLeases is the number of leases in the files of the benchmarks: a
// large campus, every address of a /18 leased.
const benchLeases = 16384

func benchFiles() (isc, kea, dnsmasq []byte) {
	var i, k, d strings.Builder
	k.WriteString("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n")
	for n := range benchLeases {
		addr := fmt.Sprintf("10.%d.%d.%d", 64, n/256, n%256)
		mac := fmt.Sprintf("02:00:00:00:%02x:%02x", n/256, n%256)
		fmt.Fprintf(&i, "lease %s {\n  starts 0 2026/12/06 02:40:00;\n  ends 0 2026/12/06 02:50:00;\n  cltt 0 2026/12/06 02:40:00;\n"+
			"  binding state active;\n  next binding state free;\n  hardware ethernet %s;\n  client-hostname \"pc-%d\";\n}\n", addr, mac, n)
		fmt.Fprintf(&k, "%s,%s,,600,4102444800,1,0,0,pc-%d,0,\n", addr, mac, n)
		fmt.Fprintf(&d, "4102444800 %s %s pc-%d *\n", mac, addr, n)
	}
	return []byte(i.String()), []byte(k.String()), []byte(d.String())
}

func BenchmarkParse(b *testing.B) {
	isc, kea, dnsmasq := benchFiles()
	for _, c := range []struct {
		name  string
		data  []byte
		parse func([]byte) File
	}{
		{"isc", isc, ParseISC},
		{"kea", kea, ParseKea},
		{"dnsmasq", dnsmasq, func(d []byte) File { return ParseDnsmasq(d, time.Hour) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if f := c.parse(c.data); len(f.Leases) != benchLeases {
					b.Fatalf("%d leases", len(f.Leases))
				}
			}
		})
	}
}
