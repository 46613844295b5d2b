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
	"syscall"

	"ipdesk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
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

const usage = `usage: ipdesk COMMAND [flags]

commands:
  serve                       run the server
  migrate                     bring the database schema up to date and exit
  user add NAME [--admin]     add a user; the password comes from IPDESK_PASSWORD or stdin
  user passwd NAME            set a user's password (same sources)
  token create --user NAME    print a new API token for the user
  import hosts FILE           import hosts from a CSV or JSON file (--dry-run: only check)
  import dhcpd|dnsmasq FILE   import a DHCP server's reservations (--space NAME; --levels proxy1=FILE,…; --dry-run)
  export hosts                write every host as CSV (--format json for JSON)
  apply [TARGET]              write, check and reload the config outputs now (--dry-run: show the change)
  import lessons FILE         import lessons from .csv or .ics (--dry-run; --replace; --ignore-unknown-rooms)
  periods [set N=HH:MM-HH:MM …]  show the bell schedule, or replace it
  holidays [add NAME FIRST [LAST] | delete ID]  list, add or delete holidays and closed days
  backup FILE                 write a consistent backup of the database while the server runs
  restore FILE [--force]      load a backup into the database (--force: replace what is there)
  migrate-db --to DATABASE    copy the database into another one, e.g. postgres://… (--force)
  version                     show the version

Every command takes --db, --config and --log-level; "ipdesk COMMAND -h" lists them.
`

// Run runs the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string, error) {
		if len(rest) == 0 {
			fmt.Fprint(m.Stderr, usage)
			return "", nil, errUsage
		}
		return rest[0], rest[1:], nil
	}
	switch cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "migrate":
		return m.migrate(ctx, rest)
	case "apply":
		return m.applyOutputs(ctx, rest)
	case "periods":
		return m.periods(ctx, rest)
	case "holidays":
		return m.holidays(ctx, rest)
	case "user":
		s, r, err := sub()
		if err != nil {
			return err
		}
		switch s {
		case "add":
			return m.userAdd(ctx, r)
		case "passwd":
			return m.userPasswd(ctx, r)
		}
	case "token":
		s, r, err := sub()
		if err != nil {
			return err
		}
		if s == "create" {
			return m.tokenCreate(ctx, r)
		}
	case "import":
		s, r, err := sub()
		if err != nil {
			return err
		}
		if s == "hosts" {
			return m.importHosts(ctx, r)
		}
		if s == "dhcpd" {
			return m.importDHCPD(ctx, r)
		}
		if s == "dnsmasq" {
			return m.importDnsmasq(ctx, r)
		}
		if s == "lessons" {
			return m.importLessons(ctx, r)
		}
	case "export":
		s, r, err := sub()
		if err != nil {
			return err
		}
		if s == "hosts" {
			return m.exportHosts(ctx, r)
		}
	case "backup":
		return m.backup(ctx, rest)
	case "restore":
		return m.restore(ctx, rest)
	case "migrate-db":
		return m.migrateDB(ctx, rest)
	case "version", "--version":
		return m.version(rest)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "ipdesk: unknown command %q\n\n%s", fmt.Sprint(args), usage)
	return errUsage
}
