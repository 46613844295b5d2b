// Command ipdesk is the ipdesk server and its operator commands.
//
//	ipdesk serve                      run the server
//	ipdesk migrate                    bring the database schema up to date
//	ipdesk user add NAME [--admin]    add a user (password from IPDESK_PASSWORD or stdin)
//	ipdesk user passwd NAME           set a user's password
//	ipdesk token create --user NAME   print a new API token
//	ipdesk import hosts FILE          import a hosts CSV or JSON file
//	ipdesk import dhcpd|dnsmasq FILE  import the reservations of a DHCP server
//	ipdesk export hosts               write all hosts as CSV or JSON
//	ipdesk apply [TARGET]             apply the config outputs now (--dry-run: show the change)
//	ipdesk import lessons FILE        import lessons from a CSV or iCalendar file
//	ipdesk periods [set N=HH:MM-HH:MM …]  show or set the bell schedule
//	ipdesk holidays [add|delete]      list, add or delete holidays and closed days
//	ipdesk backup FILE                write a consistent backup while the server runs
//	ipdesk restore FILE [--force]     load a backup into the database
//	ipdesk migrate-db --to URL        copy the database, e.g. from SQLite to PostgreSQL
//	ipdesk version                    show the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"ipdesk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	stopProfile, err := profileCPU(os.Getenv("IPDESK_CPUPROFILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipdesk:", err)
		os.Exit(1)
	}
	err = m.Run(ctx, os.Args[1:])
	stopProfile()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "ipdesk:", message(err))
		}
		os.Exit(1)
	}
}

// message returns the text shown for err: the coded message of an
// *ipdesk.Error, the plain error otherwise.
func message(err error) string {
	if ipdesk.ErrorCode(err) != ipdesk.EINTERNAL {
		return ipdesk.ErrorMessage(err)
	}
	return err.Error()
}

// Main runs one ipdesk command; main() and end-to-end tests share it.
type Main struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Ready, if set, receives the server's address once it listens.
	Ready func(addr string)
}

// command is one verb of the command line: its words ("import hosts"),
// the arguments it takes, what it does, and the function that runs it
// with the arguments after its words.
type command struct {
	name  string
	args  string
	about string
	run   func(m *Main, ctx context.Context, args []string) error
}

// commands is the table Run dispatches by and the usage lists, in the
// order of the usage. A verb of several words belongs to the group of its
// first word ("ipdesk import -h" lists the group).
func commands() []command {
	return []command{
		{"serve", "", "run the server", (*Main).serve},
		{"migrate", "", "bring the database schema up to date and exit", (*Main).migrate},
		{"user add", "NAME [--admin]", "add a user; the password comes from IPDESK_PASSWORD or stdin", (*Main).userAdd},
		{"user passwd", "NAME", "set a user's password (same sources)", (*Main).userPasswd},
		{"user totp-off", "NAME", "turn a user's two-factor sign-in off (a lost phone)", (*Main).userTOTPOff},
		{"token create", "--user NAME", "print a new API token for the user (--scope full|read|pbx; --valid 2160h)", (*Main).tokenCreate},
		{"import hosts", "FILE", "import hosts from a CSV or JSON file (--dry-run: only check)", (*Main).importHosts},
		{"import dhcpd", "FILE", "import ISC dhcpd's reservations (--space NAME; --levels proxy1=FILE,…; --dry-run)", (*Main).importDHCPD},
		{"import dnsmasq", "FILE", "import dnsmasq's reservations (--space NAME; --levels proxy1=FILE,…; --dry-run)", (*Main).importDnsmasq},
		{"export hosts", "", "write every host as CSV (--format json for JSON)", (*Main).exportHosts},
		{"apply", "[TARGET]", "write, check and reload the config outputs now (--dry-run: show the change)", (*Main).applyOutputs},
		{"import lessons", "FILE", "import lessons from .csv or .ics (--dry-run; --replace; --ignore-unknown-rooms)", (*Main).importLessons},
		{"periods", "", "show the bell schedule", (*Main).periods},
		{"periods set", "N=HH:MM-HH:MM …", "replace the bell schedule", withVerb("set", (*Main).periods)},
		{"holidays", "", "list holidays and closed days", (*Main).holidays},
		{"holidays add", "NAME FIRST [LAST]", "add a holiday or closed days", withVerb("add", (*Main).holidays)},
		{"holidays delete", "ID", "delete a holiday", withVerb("delete", (*Main).holidays)},
		{"backup", "FILE", "write a consistent backup of the database while the server runs", (*Main).backup},
		{"restore", "FILE [--force]", "load a backup into the database (--force: replace what is there)", (*Main).restore},
		{"migrate-db", "--to DATABASE", "copy the database into another one, e.g. postgres://… (--force)", (*Main).migrateDB},
		{"version", "", "show the version", func(m *Main, _ context.Context, args []string) error { return m.version(args) }},
	}
}

// withVerb runs a command that reads its sub-verb itself.
func withVerb(verb string, run func(m *Main, ctx context.Context, args []string) error) func(*Main, context.Context, []string) error {
	return func(m *Main, ctx context.Context, args []string) error {
		return run(m, ctx, append([]string{verb}, args...))
	}
}

// synopsis is the command's usage line after "ipdesk".
func (c command) synopsis() string {
	return strings.TrimSpace(c.name + " [flags] " + c.args)
}

// usage lists the commands whose name starts with group ("" for all).
func usage(group string) string {
	if group == "" {
		return "usage: ipdesk COMMAND [flags]\n\ncommands:\n" + commandList("") + usageFooter
	}
	return fmt.Sprintf("usage: ipdesk %s COMMAND [flags]\n\ncommands:\n%s%s", group, commandList(group+" "), usageFooter)
}

const usageFooter = "\nEvery command takes --db, --config and --log-level; \"ipdesk COMMAND -h\" lists them.\n"

// commandList lists the commands whose name starts with prefix, one a
// line, with their arguments and what they do.
func commandList(prefix string) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		if strings.HasPrefix(c.name, prefix) {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.about)
		}
	}
	tw.Flush()
	return b.String()
}

// isHelp tells whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// Run runs the command named by the first words of args: the longest
// name of the command table that they start with. Asking for help (-h,
// --help) prints the usage of the command or group on standard output and
// succeeds.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage(""))
		return errUsage
	}
	if args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	if isHelp(args[0]) {
		fmt.Fprint(m.Stdout, usage(""))
		return nil
	}
	var found *command
	words := 0
	for _, c := range commands() {
		name := strings.Fields(c.name)
		if len(name) > words && len(name) <= len(args) && slices.Equal(name, args[:len(name)]) {
			found, words = &c, len(name)
		}
	}
	if found != nil {
		err := found.run(m, ctx, args[words:])
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if commandList(args[0]+" ") != "" {
		group := usage(args[0])
		// The first word of a group: "ipdesk import", "ipdesk import -h",
		// "ipdesk import frob".
		switch {
		case len(args) == 1:
			fmt.Fprint(m.Stderr, group)
			return errUsage
		case isHelp(args[1]):
			fmt.Fprint(m.Stdout, group)
			return nil
		}
		fmt.Fprintf(m.Stderr, "ipdesk: unknown command %q\n\n%s", strings.Join(args[:2], " "), group)
		return errUsage
	}
	fmt.Fprintf(m.Stderr, "ipdesk: unknown command %q\n\n%s", args[0], usage(""))
	return errUsage
}
