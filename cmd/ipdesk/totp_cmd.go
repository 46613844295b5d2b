package main

import (
	"context"
	"fmt"
	"ipdesk"
	"ipdesk/sqldb"
)

// userTOTPOff turns a user's two-factor sign-in off, for a user who lost
// their authenticator; with a policy that requires it, they set it up
// again at the next sign-in.
func (m *Main) userTOTPOff(ctx context.Context, args []string) error {
	c, pos, err := m.flags("user totp-off", args, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("user totp-off takes one user name")
	}
	return m.withUser(ctx, c, pos[0], func(db *sqldb.DB, u *ipdesk.User) error {
		if err := db.SetTOTP(systemCtx(ctx, m.Getenv), u.ID, "", 0); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "two-factor sign-in of %q is off\n", u.Name)
		return nil
	})
}
