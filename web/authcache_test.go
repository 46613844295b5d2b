package web

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// eachBackendPair runs fn with a server on SQLite and, when configured, on
// PostgreSQL, and a second handle on the server's database: another
// process (the command line on SQLite) or another instance.
func eachBackendPair(t *testing.T, fn func(t *testing.T, e *testEnv, other *sqldb.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		dsn := filepath.Join(t.TempDir(), "t.db")
		e := newEnvOn(t, dsn)
		fn(t, e, sqldbtest.Open(t, dsn))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sqldbtest.PostgresDSN(t)
		if dsn == "" {
			t.Skipf("%s not set", sqldbtest.EnvPostgres)
		}
		e := newEnvOn(t, dsn)
		fn(t, e, sqldbtest.Open(t, dsn))
	})
}

// TestAuthCacheInvalidation: the server caches tokens, sessions and
// permissions, and each change of them takes effect on the very next
// request, made by the server itself or through another handle on its
// database (another process or instance). Each case first asks twice, so
// that the answer it then checks would come from the cache.
func TestAuthCacheInvalidation(t *testing.T) {
	eachBackendPair(t, func(t *testing.T, e *testEnv, other *sqldb.DB) {
		ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "admin", Admin: true})
		w := newPermWorld(t, e)
		for _, by := range []struct {
			name string
			db   *sqldb.DB
		}{{"same handle", e.db}, {"other handle", other}} {
			db := by.db
			// A fresh user with a token, a session and the view right on
			// space A through a group of its own.
			n := 0
			fresh := func(t *testing.T) (token, cookie string, userID, groupID int64) {
				n++
				return freshUser(t, e, "u"+string(rune('a'+n))+by.name[:4], w.spaceA, ipdesk.RightEdit)
			}
			get := func(token, cookie string) int {
				if cookie != "" {
					return e.do("GET", path("/api/v1/addresses/%d", w.a1), "", nil, "Cookie", cookie).code
				}
				return e.do("GET", path("/api/v1/addresses/%d", w.a1), token, nil).code
			}
			warm := func(t *testing.T, token, cookie string) {
				t.Helper()
				for range 2 {
					if c := get(token, ""); c != http.StatusOK {
						t.Fatalf("before the change, the token gets %d", c)
					}
					if c := get("", cookie); c != http.StatusOK {
						t.Fatalf("before the change, the session gets %d", c)
					}
				}
			}
			refused := func(t *testing.T, token, cookie string, want int) {
				t.Helper()
				if c := get(token, ""); c != want {
					t.Errorf("after the change, the token gets %d, want %d", c, want)
				}
				if cookie != "" {
					if c := get("", cookie); c != want {
						t.Errorf("after the change, the session gets %d, want %d", c, want)
					}
				}
			}
			t.Run(by.name, func(t *testing.T) {
				for _, c := range revocations() {
					t.Run(c.name, func(t *testing.T) {
						token, cookie, uid, gid := fresh(t)
						warm(t, token, cookie)
						c.apply(t, db, uid, gid)
						refused(t, token, cookie, c.want)
					})
				}
				t.Run("lowered grant", func(t *testing.T) {
					token, _, _, gid := fresh(t)
					change := func() int {
						return e.do("PATCH", path("/api/v1/addresses/%d", w.a1), token, map[string]any{"description": "x"}).code
					}
					for range 2 {
						if c := change(); c != http.StatusOK {
							t.Fatalf("before the change, a change of the address gets %d", c)
						}
					}
					if err := db.CreateGrant(ctx, &ipdesk.Grant{GroupID: gid, ObjectType: ipdesk.ObjectSpace, ObjectID: w.spaceA, Right: ipdesk.RightView}); err != nil {
						t.Fatal(err)
					}
					if c := change(); c != http.StatusForbidden {
						t.Errorf("after the grant became view, a change gets %d, want 403", c)
					}
				})
			})
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

// freshUser makes the user name with a token, a session and right on
// space through a group of its own.
func freshUser(t *testing.T, e *testEnv, name string, space int64, right ipdesk.Right) (token, cookie string, userID, groupID int64) {
	t.Helper()
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "admin", Admin: true})
	token = e.makeUser(name, false)
	u, err := e.db.FindUserByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	g := &ipdesk.Group{Name: "g-" + name, Members: []int64{u.ID}}
	if err := e.db.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateGrant(ctx, &ipdesk.Grant{GroupID: g.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: space, Right: right}); err != nil {
		t.Fatal(err)
	}
	secret, err := e.db.CreateSession(ctx, &ipdesk.Session{UserID: u.ID}, e.srv.sessionLimits)
	if err != nil {
		t.Fatal(err)
	}
	return token, sessionCookie + "=" + secret, u.ID, g.ID
}

// revocation is a change through db that takes from user uid, a member of
// group gid, what it may do, and the status its next request then gets.
type revocation struct {
	name  string
	apply func(t *testing.T, db *sqldb.DB, uid, gid int64)
	want  int
}

// revocations are the changes that take rights away from a user of its
// own group, whichever right the group has.
func revocations() []revocation {
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "admin", Admin: true})
	return []revocation{
		{"disabled user", func(t *testing.T, db *sqldb.DB, uid, _ int64) {
			if _, err := db.UpdateUser(ctx, uid, ipdesk.UserUpdate{Disabled: ptrTo(true)}); err != nil {
				t.Fatal(err)
			}
		}, http.StatusUnauthorized},
		{"revoked token, ended sessions", func(t *testing.T, db *sqldb.DB, uid, _ int64) {
			toks, err := db.FindTokens(ctx, uid)
			if err != nil || len(toks) != 1 {
				t.Fatalf("tokens: %v %v", toks, err)
			}
			if err := db.DeleteToken(ctx, uid, toks[0].ID); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteUserSessions(ctx, uid, 0); err != nil {
				t.Fatal(err)
			}
		}, http.StatusUnauthorized},
		{"removed from the group", func(t *testing.T, db *sqldb.DB, _, gid int64) {
			if _, err := db.UpdateGroup(ctx, gid, ipdesk.GroupUpdate{Members: &[]int64{}}); err != nil {
				t.Fatal(err)
			}
		}, http.StatusNotFound},
		{"revoked grant", func(t *testing.T, db *sqldb.DB, _, gid int64) { revokeGrant(t, db, gid) }, http.StatusNotFound},
	}
}

// revokeGrant deletes the one grant of group gid.
func revokeGrant(t *testing.T, db *sqldb.DB, gid int64) {
	t.Helper()
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "admin", Admin: true})
	gs, _, err := db.FindGrants(ctx, ipdesk.GrantFilter{GroupID: &gid})
	if err != nil || len(gs) != 1 {
		t.Fatalf("grants: %v %v", gs, err)
	}
	if err := db.DeleteGrant(ctx, gs[0].ID); err != nil {
		t.Fatal(err)
	}
}

// TestEpochReadsNeverOlder: a request that arrives while a read of the
// epoch is under way is not given that read's value (which may predate a
// change committed just before the request) but the next read's, shared
// with the other requests that arrived meanwhile.
func TestEpochReadsNeverOlder(t *testing.T) {
	started := make(chan int64, 4)
	release := make(chan struct{})
	var reads int64
	r := &epochReads{read: func(ctx context.Context) (int64, error) {
		reads++ // reads do not overlap
		started <- reads
		<-release
		return reads, nil
	}}
	ctx := context.Background()
	got := func() chan int64 {
		c := make(chan int64, 1)
		go func() {
			e, err := r.get(ctx)
			if err != nil {
				t.Error(err)
			}
			c <- e
		}()
		return c
	}
	queued := func(n int) {
		// Wait until n requests wait for the next read.
		for r.q.Queued() != n {
			runtime.Gosched()
		}
	}
	a := got()
	if k := <-started; k != 1 {
		t.Fatalf("first read is read %d", k)
	}
	b, c := got(), got()
	queued(2)
	release <- struct{}{}
	if e := <-a; e != 1 {
		t.Errorf("the first request got read %d, want 1", e)
	}
	if k := <-started; k != 2 {
		t.Fatalf("second read is read %d", k)
	}
	release <- struct{}{}
	if e1, e2 := <-b, <-c; e1 != 2 || e2 != 2 {
		t.Errorf("requests that came during read 1 got reads %d and %d, want 2 (one shared read after they came)", e1, e2)
	}
	d := got()
	if k := <-started; k != 3 {
		t.Fatalf("third read is read %d", k)
	}
	release <- struct{}{}
	if e := <-d; e != 3 {
		t.Errorf("a request after both reads got read %d, want 3", e)
	}
}
