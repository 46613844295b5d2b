// Package integration proves that the files ipdesk generates work with the
// real daemons. It has no code of its own outside its tests.
//
// The tests run ISC dhcpd, Kea, dnsmasq and squid inside network namespaces
// that they create and delete (named ipdesk-t-PID-RANDOM-ROLE), connected by
// veth pairs and a bridge between those namespaces only, with private
// addresses (10.77.0.0/24 and 10.78.0.0/24). Nothing is attached to the
// host's interfaces and no packet leaves the test's namespaces. The files
// reach the daemons the way they do in production: rendered by package
// render, put into service by apply.Applier with the daemon's own check and
// reload commands, which run inside the daemon's namespace.
//
// What the tests show:
//
//   - End to end (TestEndToEnd): "ipdesk serve", built from this source,
//     with a config file naming the files of a running dhcpd, Kea,
//     dnsmasq and squid, applies within seconds what an administrator
//     does in the web UI, in a headless Chromium: a host's new address
//     typed into its form and saved (every DHCP server gives the MAC the
//     new address), another host's access level changed in place in the
//     hosts table (squid lets it through), and the outputs page then shows
//     every output up to date. Through the API and the command line: the
//     hosts are created, a plain user cannot edit or apply (and causes no
//     run), and "ipdesk import hosts" of 151 rows beside the server causes
//     one run per output, counted through the API.
//   - ISC dhcpd, Kea and dnsmasq give a client with a reserved MAC exactly
//     its reserved address and host name, give a MAC without a reservation
//     nothing (their subnets have no dynamic pool), and hand out the new
//     address after an edit is applied and the daemon reloaded (dhcpd,
//     which cannot reload, is restarted).
//   - squid with the generated per-level ACL lists denies a client at level
//     0 (403 from squid) and lets a client at level 2 reach an origin
//     server; after the level-0 host moves to level 1 and the change is
//     applied (squid -k reconfigure), that client gets through too.
//   - The timetable's room blocking, through the store, the switcher on a
//     fake clock, package outputs and squid: a room with a lesson is
//     refused (its computers by address and by name), opened at the end
//     of the period, blocked again by an override, and opened "now".
//   - A file the daemon's check refuses is never put into service: the run
//     is "invalid" with the daemon's message, the live file stays
//     byte-identical, and the daemon, made to read its files again, still
//     serves the previous data.
//   - One bad record does not stall an output (TestIsolatedConflicts): with
//     a host of one space reserving another space's address, and for Kea
//     the same subnet in both spaces, dhcpd, Kea and dnsmasq serve
//     everything else, the clash is left out and listed, and a later
//     change reaches the clients. A failed reload is retried by itself
//     and applies once its cause is gone, without any other change.
//   - Comments full of quotes, ';', braces, '#', Cyrillic, the word "code"
//     and attempted line breaks pass every daemon's check and inject
//     nothing.
//
// The tests need root, iproute2 with network namespace support, the
// daemons, busybox (udhcpc), curl, and the go command and Chromium
// (TestEndToEnd builds ipdesk and drives its pages; Chromium resolves no
// host name and uses no proxy, so it reaches nothing but ipdesk on
// 127.0.0.1). Without them they are skipped, except
// when the environment variable CI is "true", where they fail.
//
// dnsmasq's own check (dnsmasq --test) does not read dhcp-hostsfile files,
// so the dnsmasq target is checked by the test binary acting as the check
// command: it loads the candidate into a throwaway dnsmasq and refuses it
// when dnsmasq reports a bad line, with dnsmasq's own words.
package integration
