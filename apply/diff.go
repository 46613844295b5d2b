package apply

import (
	"bytes"
	"fmt"
	"strings"
)

// Diff limits.
const (
	// DiffMaxChanged is the number of changed lines Diff shows; the rest
	// is summarised in one line.
	DiffMaxChanged = 500
	// DiffMaxLine is the number of bytes shown of one line.
	DiffMaxLine = 512
	// diffContext is the number of unchanged lines around a change.
	diffContext = 3
	// diffMaxEdits bounds the edit distance searched for a minimal diff;
	// beyond it the differing middle part is shown as removed and added
	// as a whole. It bounds time to O((N+M)·diffMaxEdits) and memory to
	// O(diffMaxEdits²).
	diffMaxEdits = 1000
)

// Edit operations, one per line of the edit script.
const (
	opEqual  = '='
	opDelete = '-'
	opInsert = '+'
)

// Diff returns a compact unified-style line diff from old to new: hunks
// with "@@ -l,n +l,n @@" headers, three lines of context, "-" for removed
// and "+" for added lines, and "\ No newline at end of file" where a last
// line lacks its newline. It returns "" when old and new are equal. At
// most DiffMaxChanged changed lines are shown, each cut to DiffMaxLine
// bytes; the output is valid UTF-8 without control characters other than
// tab and newline. It has no file header lines.
func Diff(old, new []byte) string {
	text, _, _ := diff(old, new)
	return text
}

// diff returns Diff's text and the numbers of added and removed lines.
func diff(old, new []byte) (text string, added, removed int) {
	if bytes.Equal(old, new) {
		return "", 0, 0
	}
	a, b := splitLines(old), splitLines(new)
	ops := editScript(a, b)
	for _, op := range ops {
		switch op {
		case opInsert:
			added++
		case opDelete:
			removed++
		}
	}
	return formatHunks(a, b, ops, added+removed), added, removed
}

// splitLines splits data after each newline; the last line may lack one.
func splitLines(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	lines := make([][]byte, 0, bytes.Count(data, []byte{'\n'})+1)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i+1])
		data = data[i+1:]
	}
	return lines
}

// editScript returns one operation per line that turns a into b: the
// common head and tail are cut off first, the middle is diffed with
// Myers' algorithm.
func editScript(a, b [][]byte) []byte {
	pre := 0
	for pre < len(a) && pre < len(b) && bytes.Equal(a[pre], b[pre]) {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && bytes.Equal(a[len(a)-1-suf], b[len(b)-1-suf]) {
		suf++
	}
	ops := make([]byte, 0, len(a)+len(b)-pre-suf)
	for range pre {
		ops = append(ops, opEqual)
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for range suf {
		ops = append(ops, opEqual)
	}
	return ops
}

// myers returns a shortest edit script from a to b (E. Myers, "An O(ND)
// Difference Algorithm and Its Variations", 1986), or, when more than
// diffMaxEdits edits are needed, the script that deletes all of a and
// inserts all of b.
func myers(a, b [][]byte) []byte {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return wholesale(n, m)
	}
	// Compare line numbers instead of lines.
	ids := make(map[string]int32, n+m)
	intern := func(lines [][]byte) []int32 {
		out := make([]int32, len(lines))
		for i, l := range lines {
			id, ok := ids[string(l)]
			if !ok {
				id = int32(len(ids))
				ids[string(l)] = id
			}
			out[i] = id
		}
		return out
	}
	x1, y1 := intern(a), intern(b)

	limit := min(n+m, diffMaxEdits)
	off := limit + 1
	v := make([]int32, 2*limit+3)
	// trace[d] holds v[-d..d] as it was after step d.
	var trace [][]int32
	final := -1
	for d := 0; d <= limit && final < 0; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = int(v[off+k+1]) // down: insert
			} else {
				x = int(v[off+k-1]) + 1 // right: delete
			}
			y := x - k
			for x < n && y < m && x1[x] == y1[y] {
				x++
				y++
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				final = d
				break
			}
		}
		trace = append(trace, append([]int32(nil), v[off-d:off+d+1]...))
	}
	if final < 0 {
		return wholesale(n, m)
	}

	// Walk back from (n, m), collecting operations in reverse.
	rev := make([]byte, 0, n+m)
	x, y := n, m
	for d := final; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return int(prev[k+d-1]) }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		sx := px + 1 // start of the snake after a deletion
		op := byte(opDelete)
		if pk == k+1 {
			sx = px // after an insertion
			op = opInsert
		}
		for ; x > sx; x-- {
			rev = append(rev, opEqual)
		}
		rev = append(rev, op)
		x, y = px, py
	}
	for ; x > 0; x-- {
		rev = append(rev, opEqual)
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// wholesale is the script that deletes n lines and inserts m.
func wholesale(n, m int) []byte {
	ops := make([]byte, 0, n+m)
	for range n {
		ops = append(ops, opDelete)
	}
	for range m {
		ops = append(ops, opInsert)
	}
	return ops
}

// formatHunks writes the hunks of ops; total is the number of changed
// lines.
func formatHunks(a, b [][]byte, ops []byte, total int) string {
	var out strings.Builder
	shown := 0
	// i walks ops; ai and bi are the line indexes in a and b at ops[i].
	i, ai, bi := 0, 0, 0
	for i < len(ops) && shown < DiffMaxChanged {
		// Find the next change.
		for i < len(ops) && ops[i] == opEqual {
			i, ai, bi = i+1, ai+1, bi+1
		}
		if i == len(ops) {
			break
		}
		// The hunk starts diffContext lines before it.
		ctx := min(diffContext, ai, bi)
		start, aStart, bStart := i-ctx, ai-ctx, bi-ctx
		// Extend the hunk over changes less than 2*diffContext+1 equal
		// lines apart, and while the budget of shown lines lasts.
		end := i
		budget := DiffMaxChanged - shown
		for end < len(ops) {
			if ops[end] != opEqual {
				if budget == 0 {
					break
				}
				budget--
				end++
				continue
			}
			run := 0
			for end+run < len(ops) && ops[end+run] == opEqual {
				run++
			}
			if end+run == len(ops) || run > 2*diffContext {
				end += min(run, diffContext)
				break
			}
			end += run
		}
		// Count the lines of the hunk on each side.
		aLen, bLen := 0, 0
		for _, op := range ops[start:end] {
			if op != opInsert {
				aLen++
			}
			if op != opDelete {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		ai, bi = aStart, bStart
		for _, op := range ops[start:end] {
			switch op {
			case opEqual:
				writeLine(&out, ' ', a[ai])
				ai, bi = ai+1, bi+1
			case opDelete:
				writeLine(&out, '-', a[ai])
				ai++
				shown++
			case opInsert:
				writeLine(&out, '+', b[bi])
				bi++
				shown++
			}
		}
		i = end
	}
	if rest := total - shown; rest > 0 {
		fmt.Fprintf(&out, "[... %d more changed lines not shown]\n", rest)
	}
	return out.String()
}

// hunkRange formats the "l,n" of a hunk header in the manner of GNU diff:
// 1-based start, the count left out when it is 1, and for an empty range
// the line before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// writeLine writes one diff line: mark, the line (cut and sanitised), a
// newline, and the no-newline note when the line had none.
func writeLine(out *strings.Builder, mark byte, line []byte) {
	out.WriteByte(mark)
	body, hasNL := bytes.CutSuffix(line, []byte{'\n'})
	cut := len(body) > DiffMaxLine
	if cut {
		body = body[:DiffMaxLine]
	}
	out.WriteString(sanitizeLine(body))
	if cut {
		out.WriteString(" [...]")
	}
	out.WriteByte('\n')
	if !hasNL {
		out.WriteString("\\ No newline at end of file\n")
	}
}

// sanitizeLine is sanitize for one line without its newline: tabs and
// trailing space are kept, other control characters dropped.
func sanitizeLine(p []byte) string {
	clean := true
	for _, c := range p {
		if c < 0x20 && c != '\t' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return string(p)
	}
	// A cut may split a UTF-8 sequence; it becomes U+FFFD.
	var b strings.Builder
	writeSanitized(&b, p)
	return b.String()
}
