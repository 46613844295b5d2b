package ipdesk

import (
	"math"
	"math/big"
	"testing"
)

// TestUsageExact: a usage beyond 2^64 keeps its exact counts; the share
// is computed from them, not from the saturated fields.
func TestUsageExact(t *testing.T) {
	pow := func(k uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), k) }
	u := NewUsage(pow(96), pow(81)) // a /32 with two /48s
	if u.Size != math.MaxUint64 || u.Used != math.MaxUint64 {
		t.Errorf("saturated fields %d, %d", u.Size, u.Used)
	}
	size, used := u.Counts()
	if size.Cmp(pow(96)) != 0 || used.Cmp(pow(81)) != 0 {
		t.Errorf("counts %s, %s", size, used)
	}
	if p, want := u.Percent(), 100.0/(1<<15); math.Abs(p-want) > 1e-12 {
		t.Errorf("percent %g, want %g", p, want)
	}
	// Small usages stay comparable with a literal.
	if NewUsage(big.NewInt(254), big.NewInt(3)) != (Usage{Size: 254, Used: 3}) {
		t.Error("a small usage differs from its literal")
	}
	if p := NewUsage(pow(64), pow(63)).Percent(); p != 50 {
		t.Errorf("2^63 of 2^64: %g %%", p)
	}
	if p := NewUsage(new(big.Int), new(big.Int)).Percent(); p != 0 {
		t.Errorf("empty: %g %%", p)
	}
}
