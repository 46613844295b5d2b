package packaging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// need fails under CI and skips elsewhere.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run under CI: %s", what)
	}
	t.Skip(what)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// asIpdesk returns a command that runs as the user ipdesk with its groups,
// as systemd runs the unit's ExecStart.
func asIpdesk(env []string, dir string, argv ...string) *exec.Cmd {
	cmd := exec.Command("setpriv", append([]string{"--reuid=ipdesk", "--regid=ipdesk", "--init-groups", "--"}, argv...)...)
	cmd.Env, cmd.Dir = env, dir
	return cmd
}

// unit is what the test reads from the installed systemd unit.
type unit struct {
	user, group, dir string
	env              []string
	envFiles         []string
	exec             []string
}

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var u unit
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch k {
		case "User":
			u.user = v
		case "Group":
			u.group = v
		case "WorkingDirectory":
			u.dir = v
		case "Environment":
			u.env = append(u.env, strings.Fields(v)...)
		case "EnvironmentFile":
			u.envFiles = append(u.envFiles, v)
		case "ExecStart":
			u.exec = strings.Fields(v)
		}
	}
	if u.user != "ipdesk" || u.group != "ipdesk" || len(u.exec) == 0 {
		t.Fatalf("unit %s: user %q group %q ExecStart %q; want ipdesk, ipdesk and a command", path, u.user, u.group, u.exec)
	}
	return u
}

// environment returns the environment the unit gives the service.
func (u unit) environment(t *testing.T) []string {
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/lib/ipdesk", "USER=ipdesk", "LANG=C.UTF-8"}, u.env...)
	for _, f := range u.envFiles {
		b, err := os.ReadFile(strings.TrimPrefix(f, "-"))
		if err != nil {
			if strings.HasPrefix(f, "-") {
				continue
			}
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				env = append(env, line)
			}
		}
	}
	return env
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDebInstallsAndServes builds the .deb, installs it, runs the service
// as its unit says and signs in; then it runs the apply path as the user
// ipdesk with the shipped sudoers rule, and purges the package.
func TestDebInstallsAndServes(t *testing.T) {
	need(t, os.Geteuid() == 0, "installing the .deb needs root")
	for _, p := range []string{"dpkg", "setpriv", "sudo", "visudo", "make"} {
		_, err := exec.LookPath(p)
		need(t, err == nil, p+" is not installed")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "ipdesk").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("the package ipdesk is installed on this machine already (%s); the test would remove it", out)
	}
	deb := os.Getenv("IPDESK_TEST_DEB")
	if deb == "" {
		cmd := exec.Command("make", "package")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make package: %v\n%s", err, out)
		}
		deb = "../dist/ipdesk.deb"
	}
	st, err := os.Stat(deb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %.1f MB", deb, float64(st.Size())/1e6)
	if st.Size() > 25e6 {
		t.Errorf("the .deb is %d bytes, more than 25 MB", st.Size())
	}
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "ipdesk").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge ipdesk: %v\n%s", err, out)
		}
		if _, err := user.Lookup("ipdesk"); err == nil {
			t.Errorf("the user ipdesk is still there after the purge")
		}
		if _, err := os.Stat("/var/lib/ipdesk"); err == nil {
			t.Errorf("/var/lib/ipdesk is still there after the purge")
		}
	})
	run(t, "dpkg", "-i", deb)

	// What the package installed.
	if _, err := user.Lookup("ipdesk"); err != nil {
		t.Fatalf("no user ipdesk after the install: %v", err)
	}
	conffiles := run(t, "dpkg-query", "-W", "-f=${Conffiles}", "ipdesk")
	for _, f := range []string{"/etc/ipdesk/config.json", "/etc/sudoers.d/ipdesk", "/etc/default/ipdesk"} {
		if !strings.Contains(conffiles, f) {
			t.Errorf("%s is not a conffile: %s", f, conffiles)
		}
	}
	run(t, "visudo", "-cf", "/etc/sudoers.d/ipdesk")
	if fi, err := os.Stat("/var/lib/ipdesk"); err != nil || fileOwner(fi) != "ipdesk" {
		t.Fatalf("/var/lib/ipdesk: %v, owner %s; want a directory of ipdesk", err, fileOwner(fi))
	}
	if v := run(t, "/usr/bin/ipdesk", "version"); !strings.HasPrefix(v, "ipdesk 0.") {
		t.Errorf("ipdesk version: %q", v)
	}

	// The service's local settings, as an admin sets them.
	addr := freePort(t)
	const password = "package-test-password-1"
	if err := os.WriteFile("/etc/default/ipdesk", []byte("IPDESK_LISTEN="+addr+"\nIPDESK_ADMIN_PASSWORD="+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := readUnit(t, "/usr/lib/systemd/system/ipdesk.service")
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		run(t, "systemctl", "daemon-reload")
		run(t, "systemctl", "restart", "ipdesk.service")
		t.Cleanup(func() { exec.Command("systemctl", "stop", "ipdesk.service").Run() })
		waitHTTP(t, "http://"+addr+"/login")
	} else {
		t.Log("systemd is not running: starting ExecStart as the unit would")
		cmd := asIpdesk(u.environment(t), u.dir, u.exec...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			cmd.Wait()
		})
		// The server says when it listens.
		sc := bufio.NewScanner(stderr)
		var log bytes.Buffer
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), `msg="ipdesk listening"`) {
				break
			}
		}
		if !strings.Contains(log.String(), "ipdesk listening") {
			t.Fatalf("the service ended before it listened:\n%s", log.String())
		}
		go io.Copy(io.Discard, stderr)
	}
	signIn(t, "http://"+addr, "admin", password)
	if fi, err := os.Stat("/var/lib/ipdesk/ipdesk.db"); err != nil || fileOwner(fi) != "ipdesk" {
		t.Errorf("database /var/lib/ipdesk/ipdesk.db: %v, owner %s; want it made by ipdesk", err, fileOwner(fi))
	}

	t.Run("backup as ipdesk", func(t *testing.T) {
		out, err := asIpdesk(u.environment(t), u.dir, "/usr/bin/ipdesk", "backup", "/var/lib/ipdesk/test.bak").CombinedOutput()
		if err != nil {
			t.Fatalf("ipdesk backup: %v\n%s", err, out)
		}
	})
	t.Run("apply as ipdesk with sudo", func(t *testing.T) { testNonRootApply(t, u, "http://"+addr) })
}

func fileOwner(fi os.FileInfo) string {
	if fi == nil {
		return ""
	}
	u, err := user.LookupId(strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)))
	if err != nil {
		return "?"
	}
	return u.Username
}

// waitHTTP waits until url answers (the unit was started by systemd).
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	out, err := exec.Command("curl", "-sS", "--retry", "60", "--retry-connrefused", "--retry-delay", "1", "-o", "/dev/null", url).CombinedOutput()
	if err != nil {
		t.Fatalf("the service does not answer at %s: %v %s", url, err, out)
	}
}

// signIn signs in on the sign-in page and reads the start page.
func signIn(t *testing.T, base, name, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Fatalf("sign-in as %s: %s at %s\n%.500s", name, resp.Status, resp.Request.URL, body)
	}
	if !bytes.Contains(body, []byte(name)) {
		t.Errorf("the page after sign-in does not name the user %s:\n%.500s", name, body)
	}
}

// testNonRootApply writes a dnsmasq hosts file as the user ipdesk into a
// directory it owns, with the mode and group of the target's config, and
// reloads through sudo -n under the shipped rule.
func testNonRootApply(t *testing.T, u unit, base string) {
	dir := "/var/lib/ipdesk/ci-out"
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/lib/ipdesk", "USER=ipdesk"}
	if out, err := asIpdesk(env, "/", "mkdir", "-m", "0755", dir).CombinedOutput(); err != nil {
		t.Fatalf("mkdir as ipdesk: %v %s", err, out)
	}
	// The daemon's group, of which ipdesk is a member.
	group := fmt.Sprintf("ipdesk-ci-%d", os.Getpid())
	run(t, "groupadd", "--system", group)
	t.Cleanup(func() { exec.Command("groupdel", group).Run() })
	run(t, "usermod", "-a", "-G", group, "ipdesk")

	// The shipped rule allows exactly the reload commands.
	for _, c := range []struct {
		argv []string
		ok   bool
	}{
		{[]string{"/usr/bin/systemctl", "reload", "dnsmasq"}, true},
		{[]string{"/usr/bin/systemctl", "restart", "isc-dhcp-server"}, true},
		{[]string{"/usr/bin/systemctl", "kill", "--signal=HUP", "kea-dhcp4-server"}, true},
		{[]string{"/usr/sbin/squid", "-k", "reconfigure", "-f", "/etc/squid/squid.conf"}, true},
		{[]string{"/usr/bin/systemctl", "restart", "ssh"}, false},
		{[]string{"/usr/bin/systemctl", "reload", "dnsmasq", "ssh"}, false},
		{[]string{"/usr/sbin/squid", "-k", "reconfigure", "-f", "/tmp/evil.conf"}, false},
		{[]string{"/usr/bin/id"}, false},
	} {
		err := asIpdesk(env, "/", append([]string{"sudo", "-n", "-l"}, c.argv...)...).Run()
		if (err == nil) != c.ok {
			t.Errorf("sudo -n -l %s as ipdesk: %v, want allowed=%v", strings.Join(c.argv, " "), err, c.ok)
		}
	}

	// The reload: the real one when systemd runs; otherwise sudo's own
	// check that the rule lets ipdesk run it without a password.
	reload := []string{"sudo", "-n", "/usr/bin/systemctl", "reload", "dnsmasq"}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		reload = []string{"sudo", "-n", "-l", "/usr/bin/systemctl", "reload", "dnsmasq"}
	}
	// A host with a reservation, through the installed service's API.
	uenv := u.environment(t)
	out, err := asIpdesk(uenv, u.dir, "/usr/bin/ipdesk", "token", "create", "--user", "admin").Output()
	if err != nil {
		t.Fatalf("ipdesk token create as ipdesk: %v", err)
	}
	token := strings.TrimSpace(string(out))
	var space struct{ ID int64 }
	api(t, base, token, "/api/v1/spaces", map[string]any{"name": "lab"}, &space)
	api(t, base, token, "/api/v1/prefixes", map[string]any{"space_id": space.ID, "prefix": "10.9.0.0/24", "kind": "subnet", "dhcp": true}, nil)
	api(t, base, token, "/api/v1/addresses", map[string]any{"space_id": space.ID, "address": "10.9.0.5", "hostname": "pc-05",
		"mac": "02:00:00:00:00:05", "dhcp_reservation": true}, nil)

	hosts := filepath.Join(dir, "dnsmasq.hosts")
	var cfg map[string]any
	b, err := os.ReadFile("/etc/ipdesk/config.json")
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg["targets"] = []map[string]any{{
		"name": "dnsmasq", "kind": "dnsmasq", "path": hosts,
		"reload": reload, "file_mode": "0640", "file_group": group,
	}}
	writeJSON(t, dir+"/config.json", cfg)
	out, err = asIpdesk(append(uenv, "IPDESK_CONFIG="+dir+"/config.json"), u.dir, "/usr/bin/ipdesk", "apply").CombinedOutput()
	if err != nil {
		t.Fatalf("ipdesk apply as ipdesk: %v\n%s", err, out)
	}
	t.Logf("ipdesk apply as ipdesk:\n%s", out)
	b, err = os.ReadFile(hosts)
	if err != nil || !bytes.Contains(b, []byte("02:00:00:00:00:05")) {
		t.Fatalf("hosts file: %q %v", b, err)
	}
	fi, _ := os.Stat(hosts)
	g, _ := user.LookupGroup(group)
	if fi.Mode().Perm() != 0o640 || fileOwner(fi) != "ipdesk" || strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid)) != g.Gid {
		t.Errorf("hosts file mode %v owner %s gid %d, want -rw-r----- ipdesk %s", fi.Mode(), fileOwner(fi), fi.Sys().(*syscall.Stat_t).Gid, g.Gid)
	}
}

// api posts body as JSON with the token and decodes the answer into out.
func api(t *testing.T, base, token, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s\n%s", path, resp.Status, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatal(err)
		}
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
