package apply

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestApplyFileModeAndGroup(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "reservations.json")
	// A group this process may give its files: its own, or as root any.
	group := strconv.Itoa(os.Getgid())
	if os.Geteuid() == 0 {
		group = "daemon"
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		g, err = user.LookupGroupId(group)
	}
	if err != nil {
		t.Fatal(err)
	}
	target := Target{Name: "kea", Kind: KindKea, Path: live, FileMode: 0o640, FileGroup: group}
	if err := target.Check(); err != nil {
		t.Fatal(err)
	}
	var a Applier
	for _, content := range []string{"first\n", "second\n"} {
		run, err := a.Apply(context.Background(), target, static(content))
		if err != nil || run.Status != StatusApplied {
			t.Fatalf("%v %q %s", err, run.Status, run.Message)
		}
		fi, err := os.Stat(live)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o640 || strconv.Itoa(int(st.Gid)) != g.Gid {
			t.Errorf("after writing %q: mode %v group %d, want -rw-r----- %s", content, fi.Mode(), st.Gid, g.Gid)
		}
	}

	for _, bad := range []struct {
		t     Target
		field string
	}{
		{Target{Name: "x", Kind: KindKea, Path: live, FileGroup: "no-such-group-ipdesk"}, "no-such-group-ipdesk"},
		{Target{Name: "x", Kind: KindKea, Path: live, FileMode: 0o4755}, "file_mode"},
	} {
		if err := bad.t.Check(); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("Check(%+v) = %v, want an error naming %s", bad.t, err, bad.field)
		}
	}
}
