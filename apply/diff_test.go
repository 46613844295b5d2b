package apply

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"from nothing", "", "a\nb\n", "@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"to nothing", "a\n", "", "@@ -1 +0,0 @@\n-a\n"},
		{"append", "a\nb\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n a\n b\n+c\n"},
		{"change in the middle with context",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			"1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"two hunks",
			"a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n",
			"A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n",
			"@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n"},
		{"close changes share a hunk",
			"a\n1\n2\n3\n4\n5\n6\nb\n",
			"A\n1\n2\n3\n4\n5\n6\nB\n",
			"@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n"},
		{"no newline at end", "a\nb", "a\nb\n",
			"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{"control characters are dropped", "a\n", "a\nb\x00\x1bc\td\n", "@@ -1 +1,2 @@\n a\n+bc\td\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff([]byte(tc.old), []byte(tc.new)); got != tc.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestDiffBounds(t *testing.T) {
	var old, new bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&old, "old %d\n", i)
		fmt.Fprintf(&new, "new %d\n", i)
	}
	d := Diff(old.Bytes(), new.Bytes())
	changed := 0
	for _, l := range strings.Split(d, "\n") {
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			changed++
		}
	}
	if changed != DiffMaxChanged || !strings.HasSuffix(d, "[... 3500 more changed lines not shown]\n") {
		t.Errorf("%d changed lines shown; ends %q", changed, d[len(d)-60:])
	}

	long := strings.Repeat("é", DiffMaxLine) // 2 bytes each: the cut splits nothing or a rune
	d = Diff(nil, []byte(long+"\n"))
	if !strings.Contains(d, " [...]\n") || len(d) > DiffMaxLine+40 {
		t.Errorf("long line: %d bytes: %.40q", len(d), d)
	}
	if !strings.HasPrefix(d, "@@ -0,0 +1 @@\n+é") {
		t.Errorf("long line: %.40q", d)
	}
}

// TestEditScript checks on random inputs that the script turns a into b
// and is as short as the longest common subsequence allows.
func TestEditScript(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func() [][]byte {
		n := rng.IntN(30)
		lines := make([][]byte, n)
		for i := range lines {
			lines[i] = []byte{byte('a' + rng.IntN(4)), '\n'}
		}
		return lines
	}
	for i := range 2000 {
		a, b := gen(), gen()
		ops := editScript(a, b)
		// Replay the script.
		var got [][]byte
		ai, bi := 0, 0
		for _, op := range ops {
			switch op {
			case opEqual:
				if !bytes.Equal(a[ai], b[bi]) {
					t.Fatalf("case %d: '=' on different lines", i)
				}
				got = append(got, a[ai])
				ai, bi = ai+1, bi+1
			case opDelete:
				ai++
			case opInsert:
				got = append(got, b[bi])
				bi++
			}
		}
		if ai != len(a) || bi != len(b) || !bytes.Equal(bytes.Join(got, nil), bytes.Join(b, nil)) {
			t.Fatalf("case %d: script does not turn a into b", i)
		}
		edits := bytes.Count(ops, []byte{opDelete}) + bytes.Count(ops, []byte{opInsert})
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("case %d: %d edits, minimum %d", i, edits, want)
		}
	}
}

// lcs is the textbook dynamic programme for the length of the longest
// common subsequence.
func lcs(a, b [][]byte) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if bytes.Equal(a[i], b[j]) {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestDiffLargeFallback: beyond diffMaxEdits the middle is replaced as a
// whole, which is still a correct script.
func TestDiffLargeFallback(t *testing.T) {
	var a, b [][]byte
	for i := range 3000 {
		a = append(a, fmt.Appendf(nil, "a%d\n", i))
		b = append(b, fmt.Appendf(nil, "b%d\n", i))
	}
	ops := editScript(a, b)
	if len(ops) != 6000 || ops[0] != opDelete || ops[5999] != opInsert {
		t.Errorf("fallback script of %d ops", len(ops))
	}
}

// ExampleDiff shows the UI's "what the next apply will change".
func ExampleDiff() {
	live := []byte("10.1.0.10\n10.1.0.11\n10.1.0.12\n")
	next := []byte("10.1.0.10\n10.1.0.12\n10.1.0.13\n")
	fmt.Print(Diff(live, next))
	// Output:
	// @@ -1,3 +1,3 @@
	//  10.1.0.10
	// -10.1.0.11
	//  10.1.0.12
	// +10.1.0.13
}

func BenchmarkDiff(b *testing.B) {
	var old, new bytes.Buffer
	for i := range 50000 {
		fmt.Fprintf(&old, "host h%d { fixed-address 10.0.%d.%d; }\n", i, i/256%256, i%256)
		if i%1000 == 500 {
			fmt.Fprintf(&new, "host changed%d { fixed-address 10.9.%d.%d; }\n", i, i/256%256, i%256)
		} else {
			fmt.Fprintf(&new, "host h%d { fixed-address 10.0.%d.%d; }\n", i, i/256%256, i%256)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		Diff(old.Bytes(), new.Bytes())
	}
}
