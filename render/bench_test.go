package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Generated inputs of 100,000 reservations, made once each.
var (
	bench100k4 = sync.OnceValue(func() *Input { return generatedInput(100_000, false) })
	bench100k6 = sync.OnceValue(func() *Input { return generatedInput(100_000, true) })
)

// benchRender renders the input b.N times and reports the output size as
// bytes per operation (so MB/s is the writing speed).
func benchRender(b *testing.B, in *Input, render func(*Input) ([]byte, error)) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for b.Loop() {
		out, err := render(in)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.SetBytes(int64(n))
}

func BenchmarkISCDHCP100k(b *testing.B) {
	v4 := bench100k4()
	benchRender(b, v4, ISCDHCP)
}

func BenchmarkISCDHCP6_100k(b *testing.B) {
	v6 := bench100k6()
	benchRender(b, v6, ISCDHCP6)
}

func BenchmarkKeaDHCP4_100k(b *testing.B) {
	v4 := bench100k4()
	benchRender(b, v4, KeaDHCP4)
}

func BenchmarkKeaDHCP6_100k(b *testing.B) {
	v6 := bench100k6()
	benchRender(b, v6, KeaDHCP6)
}

func BenchmarkKeaReservations4_100k(b *testing.B) {
	v4 := bench100k4()
	benchRender(b, v4, KeaReservations4)
}

func BenchmarkDnsmasq100k(b *testing.B) {
	v4 := bench100k4()
	benchRender(b, v4, Dnsmasq)
}

func BenchmarkSquidLevel100k(b *testing.B) {
	v4 := bench100k4()
	// Every host is at level 1 here, so the list has all 100,000.
	in := *v4
	in.Hosts = nil
	for _, a := range v4.Hosts {
		c := *a
		c.AccessLevel = 1
		in.Hosts = append(in.Hosts, &c)
	}
	benchRender(b, &in, noErr(func(in *Input) []byte { return SquidLevel(in, 1) }))
}

func BenchmarkSquidBlockedHosts100k(b *testing.B) {
	v4 := bench100k4()
	blocked := make([]int64, 0, 250)
	for r := int64(1); r <= 500; r += 2 {
		blocked = append(blocked, r)
	}
	benchRender(b, v4, noErr(func(in *Input) []byte { return SquidBlockedHosts(in, blocked) }))
}

func BenchmarkSquidBlockedNames(b *testing.B) {
	v4 := bench100k4()
	blocked := make([]int64, 0, 250)
	for r := int64(1); r <= 500; r += 2 {
		blocked = append(blocked, r)
	}
	benchRender(b, v4, noErr(func(in *Input) []byte { return SquidBlockedNames(in, blocked) }))
}

// BenchmarkKeaCheck100k runs "kea-dhcp4 -t" on a configuration that
// includes the subnet list of 100,000 reservations: the time the daemon's
// check of a large plan takes, which the default check timeout must cover
// (see apply.DefaultTimeout).
func BenchmarkKeaCheck100k(b *testing.B) {
	kea, err := exec.LookPath("kea-dhcp4")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("kea-dhcp4 is not installed: %v", err)
		}
		b.Skip("kea-dhcp4 is not installed")
	}
	data, err := KeaDHCP4(bench100k4())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	frag := filepath.Join(dir, "subnet4.json")
	conf := filepath.Join(dir, "kea.conf")
	main := `{"Dhcp4": {"interfaces-config": {"interfaces": []}, "lease-database": {"type": "memfile", "persist": false},
<?include "` + frag + `"?>
}}`
	if err := os.WriteFile(frag, data, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if out, err := exec.Command(kea, "-t", conf).CombinedOutput(); err != nil {
			b.Fatalf("kea-dhcp4 -t: %v\n%s", err, out)
		}
	}
}
