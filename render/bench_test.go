package render

import (
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
