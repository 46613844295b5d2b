package web

import (
	"context"
	"errors"
	"log/slog"

	"ipdesk"
	"ipdesk/directory"
)

// PasswordDirectory checks a name and password against a directory (an
// LDAP or Active Directory server, package directory).
type PasswordDirectory interface {
	Authenticate(ctx context.Context, name, password string) (*ipdesk.DirectoryIdentity, error)
}

// errDirectoryDown is the error of a sign-in the directory could not
// decide: its server is unreachable or refuses the service account.
var errDirectoryDown = errors.New("the directory server is not available")

// checkPassword returns the user of a name and password: a local account
// by its password hash; with a directory configured, any other name by the
// directory, whose user then gets (or keeps) a local record.
func (s *Server) checkPassword(ctx context.Context, name, password string) (*ipdesk.User, error) {
	if s.ldap == nil {
		return s.store.Authenticate(ctx, name, password)
	}
	u, err := s.store.FindUserByName(ctx, name)
	switch {
	case err == nil && u.Directory == "":
		return s.store.Authenticate(ctx, name, password)
	case err != nil && ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND:
		return nil, err
	}
	id, err := s.ldap.Authenticate(ctx, name, password)
	if err != nil {
		if errors.Is(err, directory.ErrUnknownUser) {
			// Gone or disabled in the directory: so is the local record,
			// and its sessions end.
			if derr := s.store.DisableDirectoryUser(ctx, ipdesk.DirectoryLDAP, name); derr != nil {
				return nil, derr
			}
		}
		if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL {
			s.log.LogAttrs(ctx, slog.LevelError, "directory sign-in failed", slog.String("user", name), slog.String("error", err.Error()))
			return nil, errDirectoryDown
		}
		return nil, err
	}
	return s.syncDirectoryUser(ctx, id)
}

// syncDirectoryUser keeps the local record of a user the directory vouched
// for. A clash with a local account is a refused sign-in.
func (s *Server) syncDirectoryUser(ctx context.Context, id *ipdesk.DirectoryIdentity) (*ipdesk.User, error) {
	u, missing, err := s.store.SyncDirectoryUser(ctx, *id)
	if ipdesk.ErrorCode(err) == ipdesk.ECONFLICT || ipdesk.ErrorCode(err) == ipdesk.EINVALID {
		s.log.LogAttrs(ctx, slog.LevelWarn, "directory sign-in refused", slog.String("user", id.Name), slog.String("error", ipdesk.ErrorMessage(err)))
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "%s", ipdesk.ErrorMessage(err))
	}
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		s.log.LogAttrs(ctx, slog.LevelWarn, "directory group mapping names groups that do not exist",
			slog.String("user", u.Name), slog.Any("groups", missing))
	}
	return u, nil
}
