package render_test

import (
	"fmt"
	"net/netip"
	"os"

	"ipdesk"
	"ipdesk/render"
)

func ExampleISCDHCP() {
	in := &render.Input{
		Hosts: []*ipdesk.Address{{
			ID: 7, Addr: netip.MustParseAddr("10.0.0.5"), MAC: ipdesk.MAC{0xaa, 0xbb, 0xcc, 0, 0, 1},
			Hostname: "z303c1", Owner: `Petrov "Petya"`, LocationID: 3, DHCPReservation: true,
		}},
		Locations: map[int64]*ipdesk.Location{3: {ID: 3, Kind: ipdesk.LocationRoom, Name: "Кабинет 303"}},
	}
	out, err := render.ISCDHCP(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(out)
	// Output:
	// # ISC dhcpd host declarations (IPv4), written by ipdesk: 1 host.
	// # Do not edit: ipdesk replaces this file.
	//
	// # owner: Petrov "Petya"; room: Кабинет 303
	// host z303c1-10-0-0-5 {
	//   hardware ethernet aa:bb:cc:00:00:01;
	//   fixed-address 10.0.0.5;
	//   option host-name "z303c1";
	// }
}

func ExampleDnsmasq() {
	in := &render.Input{Hosts: []*ipdesk.Address{
		{ID: 1, Addr: netip.MustParseAddr("10.0.0.5"), MAC: ipdesk.MAC{0xaa, 0xbb, 0xcc, 0, 0, 1}, Hostname: "pc1", DHCPReservation: true},
		{ID: 2, Addr: netip.MustParseAddr("2001:db8::5"), MAC: ipdesk.MAC{0xaa, 0xbb, 0xcc, 0, 0, 2}, DHCPReservation: true},
	}}
	out, _ := render.Dnsmasq(in)
	os.Stdout.Write(out)
	// Output:
	// # dnsmasq dhcp-hostsfile, written by ipdesk: 2 hosts.
	// # Do not edit: ipdesk replaces this file.
	// aa:bb:cc:00:00:01,10.0.0.5,pc1
	// aa:bb:cc:00:00:02,[2001:db8::5]
}

func ExampleSquidBlockedNames() {
	in := &render.Input{Locations: map[int64]*ipdesk.Location{
		1: {ID: 1, Kind: ipdesk.LocationBuilding, Name: "Haus B"},
		2: {ID: 2, ParentID: 1, Kind: ipdesk.LocationRoom, Name: "303", HostnamePattern: "z303c"},
		3: {ID: 3, ParentID: 1, Kind: ipdesk.LocationRoom, Name: "316", HostnamePattern: "z316c"},
	}}
	// Blocking the building blocks both rooms.
	os.Stdout.Write(render.SquidBlockedNames(in, []int64{1}))
	// Output:
	// # squid srcdom_regex list of the host name patterns of blocked rooms, written by ipdesk: 2 patterns.
	// # Do not edit: ipdesk replaces this file.
	// ^z303c[0-9]+(\.|$)
	// ^z316c[0-9]+(\.|$)
}
