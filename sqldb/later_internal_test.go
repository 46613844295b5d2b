package sqldb

import "testing"

func TestRenumberParams(t *testing.T) {
	for _, c := range []struct {
		q      string
		offset int
		want   string
	}{
		{"VALUES ($1, $2, $3)", 0, "VALUES ($1, $2, $3)"},
		{"VALUES ($1, $2, $10)", 7, "VALUES ($8, $9, $17)"},
		{"SELECT '$1', \"$2\", $1 WHERE x = 'it''s $3'", 3, "SELECT '$1', \"$2\", $4 WHERE x = 'it''s $3'"},
		{"SELECT $$", 2, "SELECT $$"},
	} {
		if got := renumberParams(c.q, c.offset); got != c.want {
			t.Errorf("renumberParams(%q, %d) = %q, want %q", c.q, c.offset, got, c.want)
		}
	}
}
