package web

import (
	"context"
	"net/http"
	"reflect"
	"strconv"

	"ipdesk"
)

// Accounts: users, groups and grants are managed by administrators; every
// user manages their own name, language, password and API tokens through
// /api/v1/me. Nobody can give themselves more rights: the fields that
// carry rights (admin, disabled, group members, grants) are only on the
// administrators' routes.

// userCreate is the body of POST /api/v1/users.
type userCreate struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
	Language string `json:"language"`
}

// passwordSet is the body of POST /api/v1/users/{id}/password.
type passwordSet struct {
	Password string `json:"password"`
}

// meUpdate is the body of PATCH /api/v1/me.
type meUpdate struct {
	FullName *string `json:"full_name"`
	Language *string `json:"language"`
}

// passwordChange is the body of POST /api/v1/me/password.
type passwordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// tokenCreate is the body of POST /api/v1/me/tokens.
type tokenCreate struct {
	Description string `json:"description"`
}

func userURL(id int64) string  { return "/api/v1/users/" + strconv.FormatInt(id, 10) }
func groupURL(id int64) string { return "/api/v1/groups/" + strconv.FormatInt(id, 10) }
func grantURL(id int64) string { return "/api/v1/grants/" + strconv.FormatInt(id, 10) }

// accountRoutes are the routes of users, groups, grants and the calling
// user's own account.
func (s *Server) accountRoutes() []*route {
	return []*route{
		{method: "PATCH", path: "/api/v1/me", op: "updateMe", tag: "system", summary: "Change the calling user's full name or UI language",
			act: actRead, object: objectMe, body: body[meUpdate]("MeUpdate", nil),
			reply: one[ipdesk.User](http.StatusOK), h: s.updateMe},
		{method: "POST", path: "/api/v1/me/password", op: "changeMyPassword", tag: "system",
			summary: "Change the calling user's password (needs the current one); the user's other sessions end",
			act:     actRead, object: objectMe, body: body[passwordChange]("PasswordChange", []string{"current", "new"}),
			reply: noContent, h: s.changeMyPassword},
		{method: "POST", path: "/api/v1/me/tokens", op: "createMyToken", tag: "system",
			summary: "Make an API token for the calling user; it carries the user's rights, and its secret is shown only in this answer",
			act:     actRead, object: objectMe, body: optionalBody[tokenCreate]("TokenCreate", "description"),
			reply: replySpec{kind: replyObject, status: http.StatusCreated, typ: reflect.TypeFor[tokenResult]()}, h: s.createMyToken},
		{method: "GET", path: "/api/v1/me/tokens", op: "listMyTokens", tag: "system", summary: "The calling user's API tokens, newest first (never their secrets)",
			act: actRead, object: objectMe, reply: list[ipdesk.Token](), h: s.listMyTokens},
		{method: "DELETE", path: "/api/v1/me/tokens/{id}", op: "deleteMyToken", tag: "system", summary: "Revoke one of the calling user's API tokens at once",
			act: actRead, object: objectMe, reply: noContent, h: s.deleteMyToken},

		{method: "GET", path: "/api/v1/users", op: "listUsers", tag: "accounts", summary: "List users",
			act: actRead, object: ipdesk.ObjectUser, paged: true, reply: list[ipdesk.User](), h: s.listUsers},
		{method: "POST", path: "/api/v1/users", op: "createUser", tag: "accounts", summary: "Create a user with a password",
			act: actWrite, object: ipdesk.ObjectUser,
			body:  body[userCreate]("UserCreate", []string{"name", "password"}),
			reply: one[ipdesk.User](http.StatusCreated), h: s.createUser},
		{method: "GET", path: "/api/v1/users/{id}", op: "getUser", tag: "accounts", summary: "Get a user",
			act: actRead, object: ipdesk.ObjectUser, reply: one[ipdesk.User](http.StatusOK), h: s.getUser},
		{method: "PATCH", path: "/api/v1/users/{id}", op: "updateUser", tag: "accounts",
			summary: "Change a user (disabling one ends its sessions and stops its tokens at once)",
			act:     actWrite, object: ipdesk.ObjectUser, body: body[ipdesk.UserUpdate]("UserUpdate", nil),
			reply: one[ipdesk.User](http.StatusOK), h: s.updateUser},
		{method: "POST", path: "/api/v1/users/{id}/password", op: "setUserPassword", tag: "accounts",
			summary: "Set a user's password; the user's sessions end",
			act:     actWrite, object: ipdesk.ObjectUser, body: body[passwordSet]("PasswordSet", []string{"password"}),
			reply: noContent, h: s.setUserPassword},

		{method: "GET", path: "/api/v1/groups", op: "listGroups", tag: "accounts", summary: "List groups with their members",
			act: actRead, object: ipdesk.ObjectGroup, paged: true, reply: list[ipdesk.Group](), h: s.listGroups},
		{method: "POST", path: "/api/v1/groups", op: "createGroup", tag: "accounts", summary: "Create a group",
			act: actWrite, object: ipdesk.ObjectGroup,
			body:  body[ipdesk.Group]("GroupCreate", []string{"name"}, "name", "description", "create_spaces", "view_all", "helpdesk", "members"),
			reply: one[ipdesk.Group](http.StatusCreated), h: s.createGroup},
		{method: "GET", path: "/api/v1/groups/{id}", op: "getGroup", tag: "accounts", summary: "Get a group",
			act: actRead, object: ipdesk.ObjectGroup, reply: one[ipdesk.Group](http.StatusOK), h: s.getGroup},
		{method: "PATCH", path: "/api/v1/groups/{id}", op: "updateGroup", tag: "accounts", summary: "Change a group or its members",
			act: actWrite, object: ipdesk.ObjectGroup, body: body[ipdesk.GroupUpdate]("GroupUpdate", nil),
			reply: one[ipdesk.Group](http.StatusOK), h: s.updateGroup},
		{method: "DELETE", path: "/api/v1/groups/{id}", op: "deleteGroup", tag: "accounts", summary: "Delete a group (with cascade: and its grants)",
			act: actWrite, object: ipdesk.ObjectGroup, params: []param{qp("cascade", ptBool, "also delete the group's grants")},
			reply: noContent, h: s.deleteGroup},

		{method: "GET", path: "/api/v1/grants", op: "listGrants", tag: "accounts", summary: "List grants",
			act: actRead, object: ipdesk.ObjectGrant, paged: true,
			params: []param{
				qp("group", ptInt, "group id"),
				qEnum("object_type", "the kind of object granted on", ipdesk.GrantObjects...),
				qp("object_id", ptInt, "object id"),
			},
			reply: list[ipdesk.Grant](), h: s.listGrants},
		{method: "POST", path: "/api/v1/grants", op: "createGrant", tag: "accounts",
			summary: "Give a group a right (view, edit, override) on a space, prefix or location; replaces the group's right on that object",
			act:     actWrite, object: ipdesk.ObjectGrant,
			body:  body[ipdesk.Grant]("GrantCreate", []string{"group_id", "object_type", "object_id", "right"}, "group_id", "object_type", "object_id", "right"),
			reply: one[ipdesk.Grant](http.StatusCreated), h: s.createGrant},
		{method: "DELETE", path: "/api/v1/grants/{id}", op: "deleteGrant", tag: "accounts", summary: "Remove a grant",
			act: actWrite, object: ipdesk.ObjectGrant, reply: noContent, h: s.deleteGrant},
	}
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request) error {
	var in meUpdate
	if err := s.decodeBody(w, r, &in); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(r.Context())
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	u, err := s.store.UpdateUser(r.Context(), me.ID, ipdesk.UserUpdate{FullName: in.FullName, Language: in.Language, Version: version})
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, u.Version, u)
	return nil
}

func (s *Server) changeMyPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordChange
	if err := s.decodeBody(w, r, &in); err != nil {
		return err
	}
	if err := s.changePassword(r.Context(), in.Current, in.New); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createMyToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenCreate
	if err := s.decodeBody(w, r, &in); err != nil {
		return err
	}
	me := ipdesk.ActorFromContext(r.Context())
	secret, t, err := s.store.CreateToken(r.Context(), me.ID, in.Description)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenResult{Token: t, Secret: secret})
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	users, n, err := s.store.FindUsers(r.Context(), p.page)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, users)
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userCreate
	if err := s.decodeBody(w, r, &in); err != nil {
		return err
	}
	u := &ipdesk.User{Name: in.Name, FullName: in.FullName, Admin: in.Admin, Language: in.Language}
	if err := s.store.CreateUser(r.Context(), u, in.Password); err != nil {
		return err
	}
	writeCreated(w, r, userURL(u.ID), u.Version, u)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.store.FindUserByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, u.Version, u)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.UserUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	id := paramsOf(r).id("id")
	if err := checkSelfUpdate(r.Context(), id, upd); err != nil {
		return err
	}
	u, err := s.store.UpdateUser(r.Context(), id, upd)
	if err != nil {
		return err
	}
	s.userChanged(id, u.Disabled)
	writeObject(w, r, http.StatusOK, u.Version, u)
	return nil
}

func (s *Server) listMyTokens(w http.ResponseWriter, r *http.Request) error {
	me := ipdesk.ActorFromContext(r.Context())
	tokens, err := s.store.FindTokens(r.Context(), me.ID)
	if err != nil {
		return err
	}
	if tokens == nil {
		tokens = []*ipdesk.Token{}
	}
	writeList(w, ipdesk.Page{Limit: len(tokens)}, len(tokens), tokens)
	return nil
}

func (s *Server) deleteMyToken(w http.ResponseWriter, r *http.Request) error {
	me := ipdesk.ActorFromContext(r.Context())
	if err := s.store.DeleteToken(r.Context(), me.ID, paramsOf(r).id("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setUserPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordSet
	if err := s.decodeBody(w, r, &in); err != nil {
		return err
	}
	id := paramsOf(r).id("id")
	if err := s.store.SetPassword(r.Context(), id, in.Password); err != nil {
		return err
	}
	if err := s.deleteUserSessions(r.Context(), id, 0); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	groups, n, err := s.store.FindGroups(r.Context(), p.page)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, groups)
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	var g ipdesk.Group
	if err := s.decodeBody(w, r, &g); err != nil {
		return err
	}
	if err := s.store.CreateGroup(r.Context(), &g); err != nil {
		return err
	}
	writeCreated(w, r, groupURL(g.ID), g.Version, &g)
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.store.FindGroupByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, g.Version, g)
	return nil
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.GroupUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	g, err := s.store.UpdateGroup(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, g.Version, g)
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	id := p.id("id")
	cascade := p.bool("cascade")
	return deleteObject(w, r, cascade != nil && *cascade, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteGroup(ctx, id, opts)
	})
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.GrantFilter{GroupID: p.int64("group"), ObjectType: p.enum("object_type"), ObjectID: p.int64("object_id"), Page: p.page}
	grants, n, err := s.store.FindGrants(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, grants)
	return nil
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	var g ipdesk.Grant
	if err := s.decodeBody(w, r, &g); err != nil {
		return err
	}
	if err := s.store.CreateGrant(r.Context(), &g); err != nil {
		return err
	}
	writeCreated(w, r, grantURL(g.ID), 1, &g)
	return nil
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request) error {
	id := paramsOf(r).id("id")
	if err := s.store.DeleteGrant(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
