package ipdesk

import "context"

// Directory sources: where a directory user signs in.
const (
	DirectoryLDAP = "ldap" // an LDAP or Active Directory server, by password
	DirectoryOIDC = "oidc" // an OpenID Connect provider, by single sign-on
)

// DirectoryIdentity is a user as a directory (LDAP, OpenID Connect) vouched
// for them at sign-in, with the directory's groups already mapped to
// ipdesk groups.
type DirectoryIdentity struct {
	// Source is DirectoryLDAP or DirectoryOIDC.
	Source string
	// Name is the user name in ipdesk; FullName the display name.
	Name     string
	FullName string
	// Groups are the ipdesk groups the user belongs to by the directory's
	// groups; Managed are all ipdesk groups the mapping can grant, so
	// that the user leaves those the directory no longer grants. Groups
	// outside Managed are left as administrators set them.
	Groups  []string
	Managed []string
}

// DirectoryService keeps the local records of directory users.
type DirectoryService interface {
	// SyncDirectoryUser creates or updates the local record of a user
	// the directory vouched for: name, full name, enabled, marked as a
	// directory user without a local password, and member of exactly
	// id.Groups among id.Managed. A local account of the same name is
	// not taken over (ECONFLICT); a groups name that does not exist is
	// skipped and returned in missing.
	SyncDirectoryUser(ctx context.Context, id DirectoryIdentity) (u *User, missing []string, err error)
	// DisableDirectoryUser disables the local record of a directory user
	// of source that the directory no longer knows or has disabled, and
	// ends their sessions; for other users, or none, it does nothing.
	DisableDirectoryUser(ctx context.Context, source, name string) error
}
