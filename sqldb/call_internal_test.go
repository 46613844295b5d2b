package sqldb

import "testing"

func TestPrefixRange(t *testing.T) {
	for _, tt := range []struct{ p, lo, hi string }{
		{"5432", "5432", "5433"},
		{"5439", "5439", "544"},
		{"1999", "1999", "2"},
		{"999", "999", ""},
		{"0", "0", "1"},
	} {
		if lo, hi := prefixRange(tt.p); lo != tt.lo || hi != tt.hi {
			t.Errorf("prefixRange(%q) = %q, %q; want %q, %q", tt.p, lo, hi, tt.lo, tt.hi)
		}
	}
	if reverseDigits("12345") != "54321" || reverseDigits("") != "" {
		t.Error("reverseDigits")
	}
}
