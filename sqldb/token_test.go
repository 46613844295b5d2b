package sqldb_test

import (
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestTokens: a user's tokens are listed newest first without secrets,
// revoking one stops it at once and is audited, another user's token
// cannot be revoked through this user, and the number of tokens is
// bounded.
func TestTokens(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		anna := mustUser(t, db, "anna", false)
		bert := mustUser(t, db, "bert", false)
		s1, t1, err := db.CreateToken(ctx, anna.ID, "backup script")
		if err != nil {
			t.Fatal(err)
		}
		_, t2, err := db.CreateToken(ctx, anna.ID, "monitoring")
		if err != nil {
			t.Fatal(err)
		}
		_, tb, err := db.CreateToken(ctx, bert.ID, "bert's")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindUserByToken(ctx, s1); err != nil {
			t.Fatal(err)
		}
		list, err := db.FindTokens(ctx, anna.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != t2.ID || list[1].ID != t1.ID || list[1].Description != "backup script" {
			t.Fatalf("FindTokens = %+v, want monitoring then backup script", list)
		}
		if list[1].LastUsedAt == nil || list[0].LastUsedAt != nil {
			t.Fatalf("last use: %v, %v; want the used token only", list[1].LastUsedAt, list[0].LastUsedAt)
		}

		// Bert's token is not Anna's to revoke.
		before := auditCount(t, db)
		wantCode(t, db.DeleteToken(ctx, anna.ID, tb.ID), ipdesk.ENOTFOUND)
		if auditCount(t, db) != before {
			t.Fatal("a refused revoke wrote an audit entry")
		}
		if err := db.DeleteToken(ctx, anna.ID, t1.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.FindUserByToken(ctx, s1)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		entries, _, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: ptr(ipdesk.ObjectToken), ObjectID: &t1.ID})
		if err != nil || len(entries) != 2 || entries[0].Action != ipdesk.ActionDelete {
			t.Fatalf("audit of the revoked token: %+v %v", entries, err)
		}
		wantCode(t, db.DeleteToken(ctx, anna.ID, t1.ID), ipdesk.ENOTFOUND)
		if list, _ := db.FindTokens(ctx, anna.ID); len(list) != 1 || list[0].ID != t2.ID {
			t.Fatalf("after the revoke: %+v", list)
		}

		for i := 1; i < ipdesk.MaxTokensPerUser; i++ {
			if _, _, err := db.CreateToken(ctx, bert.ID, "many"); err != nil {
				t.Fatalf("token %d: %v", i+1, err)
			}
		}
		_, _, err = db.CreateToken(ctx, bert.ID, "one too many")
		wantCode(t, err, ipdesk.ECONFLICT)
	})
}

// TestCreateUserLanguage: the language given at creation is stored.
func TestCreateUserLanguage(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		u := &ipdesk.User{Name: "olga", Language: "ru"}
		if err := db.CreateUser(ctx, u, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindUserByID(ctx, u.ID)
		if err != nil || got.Language != "ru" {
			t.Fatalf("FindUserByID = %+v, %v; want language ru", got, err)
		}
	})
}
