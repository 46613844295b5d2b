package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"ipdesk/internal/fsutil"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// newFileMode is the mode of a live file that did not exist before.
const newFileMode fs.FileMode = 0o644

// tmpSuffix ends the name of every temporary file.
const tmpSuffix = ".tmp"

// candidatePrefix returns the name prefix of candidates for the live file.
func candidatePrefix(live string) string {
	return "." + filepath.Base(live) + ".ipdesk-"
}

// mainCopyPrefix returns the name prefix of copies of main for target name.
// The target name is part of it because targets may share a main config.
func mainCopyPrefix(main, name string) string {
	return "." + filepath.Base(main) + ".ipdesk-" + name + "-"
}

// markerPath returns the path of the file that says the daemon may not have
// loaded the live file.
func markerPath(live string) string {
	return filepath.Join(filepath.Dir(live), "."+filepath.Base(live)+".ipdesk-reload-pending")
}

// resolveLive returns the file to replace: Path, or the file Path links to.
// A dangling link is an error, since renaming over it would remove it.
func resolveLive(p string) (string, error) {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return p, nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("path %s is a symbolic link that cannot be followed: %w", p, err)
	}
	return real, nil
}

// liveFile is the state of the live file before an apply.
type liveFile struct {
	exists bool
	info   fs.FileInfo
	data   []byte // nil when same is true
	same   bool   // its bytes equal the rendered ones
}

// readLive compares the live file at p with data and, when they differ,
// returns its bytes. Equal contents are compared in chunks, without
// reading the whole file into memory.
func readLive(p string, data []byte) (liveFile, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return liveFile{}, nil
	} else if err != nil {
		return liveFile{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return liveFile{}, err
	}
	if !info.Mode().IsRegular() {
		return liveFile{}, fmt.Errorf("%s is not a regular file (%s)", p, info.Mode().Type())
	}
	lf := liveFile{exists: true, info: info}
	if info.Size() == int64(len(data)) {
		same, err := equalReader(f, data)
		if err != nil {
			return liveFile{}, err
		}
		if same {
			lf.same = true
			return lf, nil
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return liveFile{}, err
		}
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size()) + 512)
	if _, err := buf.ReadFrom(f); err != nil {
		return liveFile{}, err
	}
	lf.data = buf.Bytes()
	return lf, nil
}

// equalReader tells whether r yields exactly data.
func equalReader(r io.Reader, data []byte) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(r, buf)
		if n > len(data) || !bytes.Equal(buf[:n], data[:n]) {
			return false, nil
		}
		data = data[n:]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return len(data) == 0, nil
		} else if err != nil {
			return false, err
		}
	}
}

// perms says which permission bits and owner a written file gets: those
// of like (the live file, or the main config for its copy), except where
// the target sets FileMode or FileGroup. Only a live file keeps like's
// owner: a temporary copy of the main config is only read by the check.
type perms struct {
	like  fs.FileInfo // nil for a new file
	mode  fs.FileMode // 0: like's, or 0644
	group string      // "": like's group
	owner bool        // give the file like's owner
}

// livePerms returns the permissions of the live file of t, whose state
// before the apply is like (nil when it does not exist).
func livePerms(t *Target, like fs.FileInfo) perms {
	return perms{like: like, mode: t.FileMode, group: t.FileGroup, owner: true}
}

// writeTemp writes data to a new temporary file in dir named
// prefix+random+".tmp", gives it the permissions p, syncs it to disk and
// returns its path. On error nothing is left behind.
func writeTemp(dir, prefix string, data []byte, p perms) (path string, err error) {
	f, err := os.CreateTemp(dir, prefix+"*"+tmpSuffix)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if err = p.set(f); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// set gives f the owner, group and permission bits of p. The owner comes
// first: chown clears set-id bits.
func (p perms) set(f *os.File) error {
	mode := newFileMode
	if p.like != nil {
		mode = p.like.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	}
	if p.mode != 0 {
		mode = p.mode
	}
	uid, gid := -1, -1
	if st, ok := statT(p.like); ok {
		if p.owner {
			uid = int(st.Uid)
		}
		if p.owner || p.group != "" {
			gid = int(st.Gid)
		}
	}
	if p.group != "" {
		g, err := lookupGroup(p.group)
		if err != nil {
			return err
		}
		gid = g
	}
	if mine, ok := statOf(f); ok && (uid >= 0 && uint32(uid) != mine.Uid || gid >= 0 && uint32(gid) != mine.Gid) {
		if err := f.Chown(uid, gid); err != nil {
			if uid >= 0 && uint32(uid) != mine.Uid && os.Geteuid() != 0 {
				return fmt.Errorf("the live file is owned by user id %d and ipdesk runs as user id %d, which cannot give the new file that owner: make ipdesk's user the owner of the live file (chown), and set file_group and file_mode for the daemon: %w", uid, os.Geteuid(), err)
			}
			return fmt.Errorf("cannot give the new file the owner %d:%d: %w", uid, gid, err)
		}
	}
	return f.Chmod(mode)
}

// statT returns the system stat of fi.
func statT(fi fs.FileInfo) (*syscall.Stat_t, bool) {
	if fi == nil {
		return nil, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return st, ok
}

func statOf(f *os.File) (*syscall.Stat_t, bool) {
	fi, err := f.Stat()
	if err != nil {
		return nil, false
	}
	return statT(fi)
}

// lookupGroup returns the id of the group named name (or given by number).
func lookupGroup(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		if g, err = user.LookupGroupId(name); err != nil {
			return 0, fmt.Errorf("file_group %q is not a group of this machine", name)
		}
	}
	return strconv.Atoi(g.Gid)
}

// replaceFile atomically makes live hold data with the permissions p: a
// synced temporary file in the same directory is renamed over live, and
// the directory is synced so that the rename survives a crash.
func replaceFile(live string, data []byte, p perms) error {
	tmp, err := writeTemp(filepath.Dir(live), candidatePrefix(live), data, p)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, live); err != nil {
		os.Remove(tmp)
		return err
	}
	return fsutil.SyncDir(filepath.Dir(live))
}

// setMarker records that the daemon may not have loaded the live file.
func setMarker(live string) error {
	f, err := os.OpenFile(markerPath(live), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// clearMarker removes the marker; a missing marker is fine.
func clearMarker(live string) error {
	err := os.Remove(markerPath(live))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// hasMarker tells whether the marker of live exists.
func hasMarker(live string) bool {
	_, err := os.Lstat(markerPath(live))
	return err == nil
}

// removeMatching removes the regular files in dir whose names have prefix
// and suffix, and returns their paths. A missing dir is not an error.
func removeMatching(dir, prefix, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) < len(prefix)+len(suffix) {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
