package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/importer"
	"ipdesk/metrics"
	"ipdesk/outputs"
	"ipdesk/schedule"
	"ipdesk/sqldb"
	"ipdesk/web"
)

// flags parses a command's flags; positional arguments may come before or
// after them. Asked for help (-h, --help), it prints the command's usage
// on standard output and returns errHelp; a bad flag prints it on
// standard error and returns errUsage.
func (m *Main) flags(name string, args []string, define func(fs *flag.FlagSet)) (Config, []string, error) {
	fs := flag.NewFlagSet("ipdesk "+name, flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage = func() {
		c := command{name: name}
		if i := slices.IndexFunc(commands(), func(c command) bool { return c.name == name }); i >= 0 {
			c = commands()[i]
		}
		fmt.Fprintf(&out, "usage: ipdesk %s\n", c.synopsis())
		if c.about != "" {
			fmt.Fprintf(&out, "\n%s\n", c.about)
		}
		if subs := commandList(name + " "); subs != "" {
			// A verb with sub-verbs ("holidays") names them too.
			fmt.Fprintf(&out, "\ncommands:\n%s", subs)
		}
		fmt.Fprintf(&out, "\nflags:\n")
		fs.PrintDefaults()
	}
	resolve := commonFlags(fs, m.Getenv)
	if define != nil {
		define(fs)
	}
	var positional []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			m.Stdout.Write(out.Bytes())
			return Config{}, nil, errHelp
		} else if err != nil {
			m.Stderr.Write(out.Bytes())
			return Config{}, nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	c, err := resolve()
	return c, positional, err
}

func (c Config) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// systemCtx is the context of changes the CLI makes: the audit log records
// the operator's login name.
func systemCtx(ctx context.Context, getenv func(string) string) context.Context {
	name := "cli"
	if u := getenv("USER"); u != "" && ipdesk.ValidateText("user", u, 64) == nil {
		name = "cli:" + u
	}
	return ipdesk.NewContextWithActor(ctx, &ipdesk.User{Name: name})
}

func (m *Main) open(ctx context.Context, c Config) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, c.DB)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", redact(c.DB), err)
	}
	if len(c.Targets) > 0 {
		// New DHCP reservations are checked against other spaces that a
		// DHCP output serves together.
		rs, err := outputs.Scopes(c.Targets)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("config file: targets: %s", ipdesk.ErrorMessage(err))
		}
		db.SetReservationScopes(rs)
	}
	return db, nil
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			cred := dsn[i+3 : at]
			if u, _, ok := strings.Cut(cred, ":"); ok {
				return dsn[:i+3] + u + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}

func (m *Main) serve(ctx context.Context, args []string) error {
	c, pos, err := m.flags("serve", args, nil)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", pos)
	}
	log := c.logger(m.Stderr)
	if _, err := c.outputsConfig(); err != nil {
		return err
	}
	opts, err := c.webOptions()
	if err != nil {
		return err
	}
	opts.Logger = log
	cid, err := c.callerID()
	if err != nil {
		return err
	}
	settings, err := c.scheduleSettings()
	if err != nil {
		return err
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := m.bootstrapAdmin(ctx, db); err != nil {
		return err
	}
	// The timetable's switcher tells the squid-rooms outputs which rooms
	// are blocked and applies them when the set changes.
	var sw *schedule.Switcher
	// Changes of other processes (an import on the command line, another
	// instance) that the outputs' watcher reads from the audit log wake
	// the switcher too.
	met := metrics.New(nil)
	svc, err := c.outputs(meteredStore{db, met}, log, outputs.RoomSourceFunc(func(ctx context.Context) ([]int64, error) { return sw.BlockedRooms(ctx) }),
		func(objectTypes []string) { sw.Changed(objectTypes) })
	if err != nil {
		return err
	}
	calls, err := cid.parts(db, log)
	if err != nil {
		return err
	}
	// Each look of the switcher at the plan (a boundary, a change) tells
	// the open occupancy views to fetch their grid anew.
	swc := schedule.SwitcherConfig{Settings: settings, Logger: log,
		Notify: func(st ipdesk.RoomStates) { calls.broker.Publish(web.RoomsEvent(st)) }}
	if svc != nil && svc.HasRooms() {
		swc.Apply = svc.ApplyRooms
	}
	sw = schedule.NewSwitcher(db, swc)
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	if addr := m.Getenv("IPDESK_PPROF_LISTEN"); addr != "" {
		stop, err := serveProfiles(addr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	opts.Events, opts.Heartbeat, opts.CallerID = calls.broker, cid.heartbeat, calls.web
	if opts.CallerID.Intake != nil {
		opts.CallerID.Intake = meteredIntake{opts.CallerID.Intake, met}
	}
	opts.Metrics = met
	met.WatchBlockedRooms(sw.BlockedRooms)
	opts.Timetable = sw.Planner()
	// Committed changes mark the outputs dirty and wake the switcher; the
	// scheduler applies until the server has shut down, finishing applies
	// in flight.
	db.OnCommit = func(objectTypes []string) {
		if svc != nil {
			svc.Changed(objectTypes)
		}
		sw.Changed(objectTypes)
	}
	if svc != nil {
		opts.Outputs = svc
		actx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan error, 1)
		go func() { done <- svc.Run(actx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				log.Error("apply scheduler", "error", err)
			}
		}()
		log.Info("config outputs", "outputs", strings.Join(svc.Names(), ", "))
		if err := seedLastSuccess(ctx, db, svc.Names(), met); err != nil {
			return err
		}
	}
	{
		// On PostgreSQL the rows that any instance or an import noted for
		// the search index move into it every few seconds.
		ictx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			db.RunSearchIndexer(ictx, func(err error) {
				log.Warn("search index: moving the noted addresses failed; trying again", "error", err)
			})
		}()
		defer func() {
			stop()
			<-done
		}()
	}
	sctx, stopSwitcher := context.WithCancel(context.WithoutCancel(ctx))
	swDone := make(chan error, 1)
	go func() { swDone <- sw.Run(sctx) }()
	defer func() {
		stopSwitcher()
		if err := <-swDone; err != nil {
			log.Error("timetable switcher", "error", err)
		}
	}()
	{
		// Call events are published to the live streams until the server
		// has shut down (started after db.OnCommit is set).
		cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan error, 1)
		go func() { done <- calls.svc.Run(cctx) }()
		defer func() {
			stop()
			<-done
			calls.broker.Close()
		}()
		log.Info("caller-ID", cid.describe()...)
	}
	srv := web.NewServer(db, opts)
	log.Info("ipdesk listening", "addr", "http://"+ln.Addr().String(), "db", redact(c.DB))
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// bootstrapAdmin creates the user "admin" in an empty database. The password
// comes from IPDESK_ADMIN_PASSWORD, or is generated and printed once.
func (m *Main) bootstrapAdmin(ctx context.Context, db *sqldb.DB) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := m.Getenv("IPDESK_ADMIN_PASSWORD")
	generated := pw == ""
	if generated {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	u := &ipdesk.User{Name: "admin", FullName: "Administrator", Admin: true}
	if err := db.CreateUser(systemCtx(ctx, m.Getenv), u, pw); err != nil {
		return fmt.Errorf("create the first admin user: %w", err)
	}
	if generated {
		fmt.Fprintf(m.Stderr, "\nCreated the user \"admin\" with the password:\n\n    %s\n\nIt is shown only this once. Change it with: ipdesk user passwd admin\n\n", pw)
	} else {
		fmt.Fprintln(m.Stderr, `Created the user "admin" with the password from IPDESK_ADMIN_PASSWORD.`)
	}
	return nil
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	c, _, err := m.flags("migrate", args, nil)
	if err != nil {
		return err
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.CurrentVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "database schema at version %d\n", v)
	return nil
}

// password reads a new password from IPDESK_PASSWORD or the first line of
// standard input.
func (m *Main) password() (string, error) {
	if pw := m.Getenv("IPDESK_PASSWORD"); pw != "" {
		return pw, nil
	}
	if f, ok := m.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(m.Stderr, "password: ")
		}
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password given: set IPDESK_PASSWORD or write it on standard input")
	}
	return pw, nil
}

func (m *Main) userAdd(ctx context.Context, args []string) error {
	var admin bool
	var fullName string
	c, pos, err := m.flags("user add", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&admin, "admin", false, "the user may do everything")
		fs.StringVar(&fullName, "full-name", "", "the user's full name")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("user add takes one user name")
	}
	pw, err := m.password()
	if err != nil {
		return err
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	u := &ipdesk.User{Name: pos[0], FullName: fullName, Admin: admin}
	if err := db.CreateUser(systemCtx(ctx, m.Getenv), u, pw); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "created user %q (id %d)\n", u.Name, u.ID)
	return nil
}

func (m *Main) userPasswd(ctx context.Context, args []string) error {
	c, pos, err := m.flags("user passwd", args, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("user passwd takes one user name")
	}
	pw, err := m.password()
	if err != nil {
		return err
	}
	return m.withUser(ctx, c, pos[0], func(db *sqldb.DB, u *ipdesk.User) error {
		if err := db.SetPassword(systemCtx(ctx, m.Getenv), u.ID, pw); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "password of %q changed\n", u.Name)
		return nil
	})
}

// withUser opens the database of c and runs fn with the user named name.
func (m *Main) withUser(ctx context.Context, c Config, name string, fn func(db *sqldb.DB, u *ipdesk.User) error) error {
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByName(ctx, name)
	if err != nil {
		return err
	}
	return fn(db, u)
}

func (m *Main) tokenCreate(ctx context.Context, args []string) error {
	var user, desc, scope string
	var valid time.Duration
	c, _, err := m.flags("token create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "the user the token acts as (required)")
		fs.StringVar(&desc, "description", "created on the command line", "what the token is for")
		fs.StringVar(&scope, "scope", "full", "what the token may do: full, read (GET only) or pbx (report calls, call API)")
		fs.DurationVar(&valid, "valid", 0, "how long the token works, such as 2160h (default: until revoked)")
	})
	if err != nil {
		return err
	}
	if user == "" {
		return errors.New("token create needs --user NAME")
	}
	spec := ipdesk.TokenSpec{Description: desc, Scope: ipdesk.TokenScope(scope)}
	if err := ipdesk.ValidateTokenScope(spec.Scope); err != nil {
		return fmt.Errorf("--scope: %s", ipdesk.ErrorMessage(err))
	}
	if valid < 0 {
		return fmt.Errorf("--valid %s is negative", valid)
	}
	if valid > 0 {
		at := time.Now().Add(valid)
		spec.ExpiresAt = &at
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByName(ctx, user)
	if err != nil {
		return err
	}
	secret, _, err := db.CreateScopedToken(systemCtx(ctx, m.Getenv), u.ID, spec)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, secret)
	return nil
}

func (m *Main) importHosts(ctx context.Context, args []string) error {
	var dryRun bool
	c, pos, err := m.flags("import hosts", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "check and report, change nothing")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("import hosts takes one file (.csv or .json; - for CSV on standard input)")
	}
	r, err := m.input(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	var hosts []importer.Host
	var problems []importer.LineError
	if strings.EqualFold(filepath.Ext(pos[0]), ".json") {
		hosts, problems, err = importer.ReadHostsJSON(r)
	} else {
		hosts, problems, err = importer.ReadHostsCSV(r)
	}
	if err != nil {
		return err
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	return m.importAndReport(ctx, db, importSet{hosts: hosts, problems: problems, dryRun: dryRun})
}

func (m *Main) exportHosts(ctx context.Context, args []string) error {
	var format, space string
	c, _, err := m.flags("export hosts", args, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "csv", "csv or json")
		fs.StringVar(&space, "space", "", "only this space (by name)")
	})
	if err != nil {
		return err
	}
	if format != "csv" && format != "json" {
		return fmt.Errorf("format %q is not csv or json", format)
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	var f ipdesk.AddressFilter
	if space != "" {
		ss, _, err := db.FindSpaces(ctx, ipdesk.SpaceFilter{Name: &space})
		if err != nil {
			return err
		}
		if len(ss) == 0 {
			return fmt.Errorf("space %q does not exist", space)
		}
		f.SpaceID = &ss[0].ID
	}
	hosts, err := importer.ExportHosts(ctx, db, f)
	if err != nil {
		return err
	}
	if format == "json" {
		return importer.WriteHostsJSON(m.Stdout, hosts)
	}
	return importer.WriteHostsCSV(m.Stdout, hosts)
}
