package web

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
)

// TestWritesConfirmAuth: on a store whose writes confirm credentials
// (PostgreSQL), a write request let in from the auth cache without a read
// of the auth epoch is still refused at once, and stores nothing, when its
// user was disabled, its token revoked, its session ended or its right
// taken away just before, by this server or by another instance; and a
// right granted just before takes effect at once. On SQLite every request
// reads the epoch; the same holds.
func TestWritesConfirmAuth(t *testing.T) {
	eachBackendPair(t, func(t *testing.T, e *testEnv, other *sqldb.DB) {
		var epochReads atomic.Int64
		read := e.srv.auth.reads.read
		if read != nil {
			e.srv.auth.reads.read = func(ctx context.Context) (int64, error) {
				epochReads.Add(1)
				return read(ctx)
			}
		}
		ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "admin", Admin: true})
		w := newPermWorld(t, e)
		n := 0
		fresh := func(t *testing.T, right ipdesk.Right) (token, cookie string, userID, groupID int64) {
			n++
			return freshUser(t, e, "w"+string(rune('a'+n)), w.spaceA, right)
		}
		// change sets the description of address a1 with the token or the
		// session; allocate takes an address of subnet A1.
		change := func(token, cookie, desc string) int {
			body := map[string]any{"description": desc}
			if cookie != "" {
				return e.do("PATCH", path("/api/v1/addresses/%d", w.a1), "", body, "Cookie", cookie, "Sec-Fetch-Site", "same-origin").code
			}
			return e.do("PATCH", path("/api/v1/addresses/%d", w.a1), token, body).code
		}
		allocate := func(token string) int {
			return e.do("POST", path("/api/v1/prefixes/%d/available-addresses", w.subnetA1), token, map[string]any{"hostname": "late"}).code
		}
		get := func(token string) int {
			return e.do("GET", path("/api/v1/addresses/%d", w.a1), token, nil).code
		}
		stored := func(t *testing.T) (string, int) {
			t.Helper()
			a, err := e.db.FindAddressByID(ctx, w.a1)
			if err != nil {
				t.Fatal(err)
			}
			_, count, err := e.db.FindAddresses(ctx, ipdesk.AddressFilter{SpaceID: &w.spaceA})
			if err != nil {
				t.Fatal(err)
			}
			return a.Description, count
		}
		warm := func(t *testing.T, token, cookie string) {
			t.Helper()
			for range 2 {
				if c := change(token, "", "by token"); c != http.StatusOK {
					t.Fatalf("before the change, a write with the token gets %d", c)
				}
				if c := change("", cookie, "by session"); c != http.StatusOK {
					t.Fatalf("before the change, a write with the session gets %d", c)
				}
			}
		}
		refused := func(t *testing.T, token, cookie string, want int) {
			t.Helper()
			desc, count := stored(t)
			if c := change(token, "", "too late"); c != want {
				t.Errorf("after the change, a write with the token gets %d, want %d", c, want)
			}
			if cookie != "" {
				if c := change("", cookie, "too late"); c != want {
					t.Errorf("after the change, a write with the session gets %d, want %d", c, want)
				}
			}
			if c := allocate(token); c != want {
				t.Errorf("after the change, an allocation gets %d, want %d", c, want)
			}
			if d, c := stored(t); d != desc || c != count {
				t.Errorf("a refused write was stored: description %q → %q, %d → %d addresses", desc, d, count, c)
			}
		}
		for _, by := range []struct {
			name string
			db   *sqldb.DB
		}{{"same handle", e.db}, {"other handle", other}} {
			db := by.db
			t.Run(by.name, func(t *testing.T) {
				t.Run("writes from the cache", func(t *testing.T) {
					token, cookie, _, _ := fresh(t, ipdesk.RightEdit)
					warm(t, token, cookie)
					before := epochReads.Load()
					for range 3 {
						if c := change(token, "", "again"); c != http.StatusOK {
							t.Fatalf("a write gets %d", c)
						}
						if c := allocate(token); c != http.StatusCreated {
							t.Fatalf("an allocation gets %d", c)
						}
						if c := get(token); c != http.StatusOK {
							t.Fatalf("a read gets %d", c)
						}
					}
					reads := epochReads.Load() - before
					if e.srv.confirmsAuth && reads != 0 {
						t.Errorf("six writes and three reads of an address let in from the cache read the epoch %d times, want none", reads)
					}
					if !e.srv.confirmsAuth && reads < 9 {
						t.Errorf("six writes and three reads read the epoch %d times, want one each", reads)
					}
				})
				for _, c := range revocations() {
					t.Run(c.name, func(t *testing.T) {
						token, cookie, uid, gid := fresh(t, ipdesk.RightEdit)
						warm(t, token, cookie)
						if got := get(token); got != http.StatusOK {
							t.Fatalf("before the change, a read gets %d", got)
						}
						c.apply(t, db, uid, gid)
						if got := get(token); got != c.want {
							t.Errorf("after the change, a read of the address gets %d, want %d", got, c.want)
						}
						refused(t, token, cookie, c.want)
					})
				}
				t.Run("lowered grant", func(t *testing.T) {
					token, cookie, _, gid := fresh(t, ipdesk.RightEdit)
					warm(t, token, cookie)
					revokeGrant(t, db, gid)
					if err := db.CreateGrant(ctx, &ipdesk.Grant{GroupID: gid, ObjectType: ipdesk.ObjectSpace, ObjectID: w.spaceA, Right: ipdesk.RightView}); err != nil {
						t.Fatal(err)
					}
					refused(t, token, cookie, http.StatusForbidden)
				})
				t.Run("raised grant", func(t *testing.T) {
					token, cookie, _, gid := fresh(t, ipdesk.RightView)
					for range 2 {
						if c := change(token, "", "not yet"); c != http.StatusForbidden {
							t.Fatalf("before the grant, a write gets %d, want 403", c)
						}
					}
					if err := db.CreateGrant(ctx, &ipdesk.Grant{GroupID: gid, ObjectType: ipdesk.ObjectSpace, ObjectID: w.spaceA, Right: ipdesk.RightEdit}); err != nil {
						t.Fatal(err)
					}
					if c := change(token, "", "granted"); c != http.StatusOK {
						t.Errorf("after the grant, a write with the token gets %d, want 200", c)
					}
					if c := change("", cookie, "granted too"); c != http.StatusOK {
						t.Errorf("after the grant, a write with the session gets %d, want 200", c)
					}
					if d, _ := stored(t); d != "granted too" {
						t.Errorf("description %q after the granted writes", d)
					}
				})
			})
		}
	})
}
