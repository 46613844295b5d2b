package callerid

import (
	"slices"
	"strings"
	"testing"

	"ipdesk"
)

var (
	germany = Config{CountryCode: "49", InternationalPrefix: "00", TrunkPrefix: "0", ExtensionDigits: 4}
	russia  = Config{CountryCode: "7", InternationalPrefix: "810", TrunkPrefix: "8", ExtensionDigits: 3}
	// italy has no trunk prefix: national numbers are dialled in full.
	italy = Config{CountryCode: "39", InternationalPrefix: "00", ExtensionDigits: 3}
)

func TestNormalize(t *testing.T) {
	const (
		intl = ipdesk.NumberInternational
		ext  = ipdesk.NumberExtension
		loc  = ipdesk.NumberLocal
		unk  = ipdesk.NumberUnknown
	)
	tests := []struct {
		cfg    Config
		raw    string
		number string
		kind   ipdesk.NumberKind
	}{
		// German forms of one number.
		{germany, "+49 (0)3591 123-45", "+49359112345", intl},
		{germany, "+49 3591 12345", "+49359112345", intl},
		{germany, "+4935911234 5", "+49359112345", intl},
		{germany, "0049 3591 12345", "+49359112345", intl},
		{germany, "0049 (0)3591 12345", "+49359112345", intl},
		{germany, "03591 12345", "+49359112345", intl},
		{germany, "03591/123-45", "+49359112345", intl},
		{germany, "(03591) 12345", "+49359112345", intl},
		{germany, "(0)3591 12345", "+49359112345", intl},
		{germany, "0359.112.345", "+49359112345", intl},
		{germany, "  03591 12345  ", "+49359112345", intl},
		{germany, "+49-351-1234567", "+493511234567", intl},
		// Foreign numbers from Germany.
		{germany, "+44 (0)20 7946 0018", "+442079460018", intl},
		{germany, "001 212 555 0100", "+12125550100", intl},
		{germany, "+7 495 123-45-67", "+74951234567", intl},
		// Extensions and local numbers.
		{germany, "2345", "2345", ext},
		{germany, "23-45", "2345", ext},
		{germany, "012", "012", ext}, // short: an extension, not a trunk call
		{germany, "0", "0", ext},
		{germany, "12345", "12345", loc}, // subscriber number without area code
		// Russian forms.
		{russia, "8 (495) 123-45-67", "+74951234567", intl},
		{russia, "+7 (495) 123-45-67", "+74951234567", intl},
		{russia, "+7 495 1234567", "+74951234567", intl},
		{russia, "84951234567", "+74951234567", intl},
		{russia, "8 (800) 555-35-35", "+78005553535", intl},
		{russia, "8-10-49-3591-12345", "+49359112345", intl},
		{russia, "810 49 3591 12345", "+49359112345", intl},
		{russia, "123", "123", ext},
		{russia, "123-45-67", "1234567", loc},
		// A country without trunk prefix.
		{italy, "06 1234 5678", "+390612345678", intl},
		{italy, "0039 06 1234 5678", "+390612345678", intl},
		{italy, "101", "101", ext},
		// No rules at all: digits as they are.
		{Config{}, "03591 12345", "0359112345", loc},
		{Config{}, "+49 3591 12345", "+49359112345", intl},
		{Config{}, "12", "12", loc},
		// A trunk prefix but no country code: kept as dialled.
		{Config{TrunkPrefix: "0"}, "03591 12345", "0359112345", loc},

		// Unknown: never an error.
		{germany, "", "", unk},
		{germany, "   ", "", unk},
		{germany, "anonymous", "", unk},
		{germany, "Anonymous", "", unk},
		{germany, "unknown", "", unk},
		{germany, "restricted", "", unk},
		{germany, "../", "", unk},
		{germany, "../../etc/passwd", "", unk},
		{germany, "<script>alert(1)</script>", "", unk},
		{germany, "0359112345<script>", "", unk},
		{germany, "03591\r\n12345", "", unk},
		{germany, "03591\n12345", "", unk},
		{germany, "03591\t12345", "", unk},
		{germany, "03591\x0012345", "", unk},
		{germany, "\xff\xfe", "", unk},
		{germany, "٠٣٥٩١١٢٣٤٥", "", unk},              // Arabic-Indic digits
		{germany, "０３５９１１２３４５", "", unk},              // fullwidth digits
		{germany, "03591\u00a012345", "", unk},        // no-break space
		{germany, strings.Repeat("1", 1000), "", unk}, // 1,000 characters
		{germany, strings.Repeat("1", 21), "", unk},   // too many digits
		{germany, "+", "", unk},
		{germany, "++49 3591 12345", "", unk},
		{germany, "49+3591", "", unk},
		{germany, "+49", "", unk},               // too short for E.164
		{germany, "+0 3591 12345", "", unk},     // no country code starts with 0
		{germany, "+1234567890123456", "", unk}, // longer than E.164
		{germany, "00", "00", ext},
		{germany, "*31#0359112345", "", unk},
		{germany, "tel:+49359112345", "", unk},
		{germany, "-", "", unk},
		{germany, "()", "", unk},
	}
	for _, tt := range tests {
		got := tt.cfg.Normalize(tt.raw)
		if got.Number != tt.number || got.Kind != tt.kind {
			t.Errorf("%+v Normalize(%q) = %q %s, want %q %s", tt.cfg, tt.raw, got.Number, got.Kind, tt.number, tt.kind)
		}
		if got.Raw != ipdesk.BoundRaw(tt.raw) {
			t.Errorf("Normalize(%q).Raw = %q", tt.raw, got.Raw)
		}
	}
}

func TestFullQuery(t *testing.T) {
	tests := []struct {
		cfg  Config
		raw  string
		want []string
	}{
		{germany, "+49 3591 12345", []string{"49359112345", "0049359112345", "0359112345", "490359112345", "00490359112345"}},
		{germany, "+1 212 555 0100", []string{"12125550100", "0012125550100"}},
		{germany, "2345", []string{"2345"}},
		{germany, "12345", []string{"12345"}},
		{germany, "anonymous", nil},
		{russia, "8 (495) 123-45-67", []string{"74951234567", "81074951234567", "84951234567", "784951234567", "810784951234567"}},
		{russia, "8-10-49-3591-12345", []string{"49359112345", "81049359112345"}},
		{italy, "06 1234 5678", []string{"390612345678", "00390612345678", "0612345678"}},
	}
	for _, tt := range tests {
		got := tt.cfg.fullQuery(tt.cfg.Normalize(tt.raw)).Digits
		if !slices.Equal(got, tt.want) {
			t.Errorf("fullQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestExtensionQuery(t *testing.T) {
	tests := []struct {
		cfg    Config
		raw    string
		ok     bool
		digits []string
		suffix string
	}{
		{germany, "2345", true, nil, "2345"},                    // an extension calls: rooms stored in full end with it
		{germany, "345", false, nil, ""},                        // shorter than an extension: only the full match
		{germany, "+49 3591 12345", true, []string{"2345"}, ""}, // the site's own country: its last digits may be an extension
		{germany, "03591 12345", true, []string{"2345"}, ""},
		{germany, "12345", true, []string{"2345"}, ""},
		{germany, "+44 20 7946 0018", false, nil, ""}, // abroad: never an extension here
		{germany, "anonymous", false, nil, ""},
		{Config{CountryCode: "49", TrunkPrefix: "0"}, "2345", false, nil, ""}, // no extensions configured
	}
	for _, tt := range tests {
		q, ok := tt.cfg.extensionQuery(tt.cfg.Normalize(tt.raw))
		if ok != tt.ok || !slices.Equal(q.Digits, tt.digits) || q.Suffix != tt.suffix {
			t.Errorf("extensionQuery(%q) = %+v %v, want digits %q suffix %q %v", tt.raw, q, ok, tt.digits, tt.suffix, tt.ok)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []Config{germany, russia, italy, {}} {
		if err := c.Check(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := []struct {
		cfg   Config
		field string
	}{
		{Config{CountryCode: "+49"}, "country_code"},
		{Config{CountryCode: "049"}, "country_code"},
		{Config{CountryCode: "4949"}, "country_code"},
		{Config{InternationalPrefix: "0o"}, "international_prefix"},
		{Config{TrunkPrefix: "000"}, "trunk_prefix"},
		{Config{TrunkPrefix: "00", InternationalPrefix: "00"}, "trunk_prefix"},
		{Config{ExtensionDigits: -1}, "extension_digits"},
		{Config{ExtensionDigits: 9}, "extension_digits"},
	}
	for _, b := range bad {
		err := b.cfg.Check()
		if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != b.field {
			t.Errorf("%+v: %v, want an error about %s", b.cfg, err, b.field)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+49 (0)3591 123-45", "8-10-49-3591-12345", "anonymous", "٠١٢", "\r\n", "(0)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, c := range []Config{germany, russia, italy, {}} {
			n := c.Normalize(raw)
			if len(n.Raw) > ipdesk.MaxRawNumberLen {
				t.Fatalf("raw %d bytes", len(n.Raw))
			}
			switch n.Kind {
			case ipdesk.NumberUnknown:
				if n.Number != "" {
					t.Fatalf("unknown with number %q", n.Number)
				}
			case ipdesk.NumberInternational:
				if len(n.Number) < 1+minE164 || len(n.Number) > 1+maxE164 || n.Number[0] != '+' || strings.Trim(n.Number[1:], "0123456789") != "" {
					t.Fatalf("Normalize(%q) = bad international %q", raw, n.Number)
				}
			default:
				if n.Number == "" || strings.Trim(n.Number, "0123456789") != "" {
					t.Fatalf("Normalize(%q) = %q %s", raw, n.Number, n.Kind)
				}
			}
			// The normalised form is a fixed point.
			if n.Kind != ipdesk.NumberUnknown {
				again := c.Normalize(n.Number)
				if n.Kind == ipdesk.NumberInternational && again.Number != n.Number {
					t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q", raw, n.Number, n.Number, again.Number)
				}
			}
		}
	})
}
