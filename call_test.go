package ipdesk

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCallStateNext(t *testing.T) {
	tests := []struct {
		from CallState
		ev   CallEventKind
		want CallState
	}{
		{CallRinging, CallRing, CallRinging},
		{CallRinging, CallAnswer, CallAnswered},
		{CallRinging, CallHangup, CallMissed},
		{CallAnswered, CallRing, CallAnswered},
		{CallAnswered, CallAnswer, CallAnswered},
		{CallAnswered, CallHangup, CallEnded},
		{CallMissed, CallRing, CallMissed},
		{CallMissed, CallAnswer, CallEnded}, // the answer arrived after the hangup
		{CallMissed, CallHangup, CallMissed},
		{CallEnded, CallRing, CallEnded},
		{CallEnded, CallAnswer, CallEnded},
		{CallEnded, CallHangup, CallEnded},
	}
	for _, tt := range tests {
		if got := tt.from.Next(tt.ev); got != tt.want {
			t.Errorf("%s + %s = %s, want %s", tt.from, tt.ev, got, tt.want)
		}
	}
	for k, want := range map[CallEventKind]CallState{CallRing: CallRinging, CallAnswer: CallAnswered, CallHangup: CallMissed} {
		if got := InitialCallState(k); got != want {
			t.Errorf("InitialCallState(%s) = %s, want %s", k, got, want)
		}
	}
}

func TestBoundRaw(t *testing.T) {
	long := strings.Repeat("1", 1000)
	tests := []struct{ in, want string }{
		{"", ""},
		{"+49 (0)3591 123-45", "+49 (0)3591 123-45"},
		{"a\r\nb", "a\r\nb"}, // kept for the record; escaped wherever shown
		{"<script>", "<script>"},
		{"\xff1", "\uFFFD1"},
		{"1\x002", "1\uFFFD2"},
		{long, long[:MaxRawNumberLen-len("…")] + "…"},
		{strings.Repeat("ж", 200), strings.Repeat("ж", 126) + "…"},
	}
	for _, tt := range tests {
		got := BoundRaw(tt.in)
		if got != tt.want {
			t.Errorf("BoundRaw(%q) = %q, want %q", clip(tt.in), clip(got), clip(tt.want))
		}
		if len(got) > MaxRawNumberLen || !utf8.ValidString(got) {
			t.Errorf("BoundRaw(%q): %d bytes, valid %v", clip(tt.in), len(got), utf8.ValidString(got))
		}
	}
}

func TestCallReportValidate(t *testing.T) {
	ok := CallReport{Kind: CallRing, Time: time.Now()}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, r := range map[string]CallReport{
		"event":   {Kind: "dial", Time: time.Now()},
		"call_id": {Kind: CallRing, PBXCallID: "a\nb", Time: time.Now()},
		"time":    {Kind: CallHangup},
	} {
		if err := r.Validate(); ErrorField(err) != field || ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v, want an error about %s", r, err, field)
		}
	}
}
