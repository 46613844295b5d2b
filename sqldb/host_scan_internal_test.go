package sqldb

import (
	"testing"

	"ipdesk"
)

// TestParseStoredMAC: the fast path reads exactly the stored form and
// agrees with ipdesk.ParseMAC on it; anything else is left to ParseMAC.
func TestParseStoredMAC(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"02:00:5e:10:00:ff", true},
		{"aa:bb:cc:dd:ee:0f", true},
		{"AA:BB:CC:DD:EE:0F", false}, // upper case: not the stored form
		{"aa-bb-cc-dd-ee-0f", false},
		{"aa:bb:cc:dd:ee:0", false},
		{"aa:bb:cc:dd:ee:0ff", false},
		{"aa:bb:cc:dd:ee:0g", false},
		{"aa:bb:cc:dd:ee;0f", false},
		{"aabb.ccdd.ee0f", false},
		{"00:00:00:00:00:00", false}, // refused by ParseMAC
		{"ff:ff:ff:ff:ff:ff", false},
		{"", false},
	} {
		m, ok := parseStoredMAC(tc.in)
		if ok != tc.ok {
			t.Errorf("parseStoredMAC(%q) ok %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		want, err := ipdesk.ParseMAC(tc.in)
		if err != nil || m != want || m.String() != tc.in {
			t.Errorf("parseStoredMAC(%q) = %s, ParseMAC %s %v", tc.in, m, want, err)
		}
	}
}
