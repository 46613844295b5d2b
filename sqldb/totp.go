package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"ipdesk"
)

// FindTOTP returns a user's TOTP secret and the step of the last code used.
func (db *DB) FindTOTP(ctx context.Context, userID int64) (string, int64, error) {
	var secret string
	var step int64
	err := db.r.QueryRowContext(ctx, "SELECT totp_secret, totp_last_step FROM users WHERE id = $1", userID).Scan(&secret, &step)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, notFound("user", userID)
	}
	return secret, step, mapError(err)
}

// SetTOTP turns a local account's two-factor sign-in on or off.
func (db *DB) SetTOTP(ctx context.Context, userID int64, secret string, step int64) error {
	return db.write(ctx, func(tx *Tx) error {
		u, err := tx.findUser(userID)
		if err != nil {
			return err
		}
		if u.Directory != "" {
			return ipdesk.Errorf(ipdesk.EINVALID, "user %q signs in through the directory (%s), which handles a second factor", u.Name, u.Directory)
		}
		if _, err := tx.exec("UPDATE users SET totp_secret = $1, totp_last_step = $2, version = version + 1, updated_at = $3 WHERE id = $4",
			secret, step, micros(tx.now), userID); err != nil {
			return err
		}
		state := "on"
		if secret == "" {
			state = "off"
		}
		return tx.audit(ipdesk.ActionUpdate, ipdesk.ObjectUser, userID, u, map[string]any{"id": userID, "name": u.Name, "two_factor": state})
	})
}

// UseTOTPStep records the use of a code's step, refusing a replay.
func (db *DB) UseTOTPStep(ctx context.Context, userID int64, step int64) error {
	res, err := db.w.ExecContext(ctx, "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1", step, userID)
	if err != nil {
		return mapError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapError(err)
	} else if n == 0 {
		return ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "this two-factor code was used already; wait for the next one")
	}
	return nil
}
