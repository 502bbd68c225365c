package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

type usersPage struct {
	Users  []*vigil.User
	Roles  []vigil.Role
	Notice string
}

// handleUsers lists the staff accounts with the forms that manage them.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, "", r.URL.Query().Get("done"))
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	users, err := s.cfg.Users.ListUsers(r.Context())
	if err != nil {
		s.logger.Error("users", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	data := usersPage{Users: users, Roles: vigil.Roles}
	p := s.newStaffPage(w, r, &data)
	if key, ok := usersNotices[notice]; ok {
		data.Notice = p.text(key)
	}
	p.Error = errMsg
	s.render(w, r, status, "staff_users", p)
}

// usersNotices are the confirmations shown after an action (by key, so
// that a link cannot make the page say anything else).
var usersNotices = map[string]string{
	"created": "users_done_created", "disabled": "users_done_disabled", "enabled": "users_done_enabled",
	"password": "users_done_password", "totp": "users_done_totp", "role": "users_done_role",
}

// userForm parses and checks an admin's form; it answers the refusal itself.
func (s *Server) userForm(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(w, r, 8<<10); err != nil || !s.checkCSRF(r) {
		s.renderUsers(w, r, http.StatusForbidden, msgExpired, "")
		return false
	}
	return true
}

// handleUserCreate adds an account. The new user enrols a second factor at
// the first sign-in where the role needs one.
func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	if !s.userForm(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	role, err := vigil.ParseRole(formRoles(r))
	if err == nil {
		err = vigil.ValidatePassword(r.PostFormValue("password"))
	}
	if err != nil {
		s.renderUsers(w, r, httpStatus(err), s.staffErrorText(r, err), "")
		return
	}
	hash, err := auth.HashPassword(r.PostFormValue("password"), s.cfg.Accounts.Argon2)
	if err != nil {
		s.logger.Error("create user", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	u := &vigil.User{Name: name, Role: role, PasswordHash: hash}
	if err := s.cfg.Users.CreateUser(r.Context(), u); err != nil {
		if httpStatus(err) == http.StatusInternalServerError {
			s.logger.Error("create user", "err", err)
		}
		s.renderUsers(w, r, httpStatus(err), s.staffErrorText(r, err), "")
		return
	}
	s.userDone(w, r, "user.create", u, map[string]any{"name": u.Name, "role": u.Role}, "created")
}

// userDone records an admin's action and goes back to the list.
func (s *Server) userDone(w http.ResponseWriter, r *http.Request, action string, u *vigil.User, detail map[string]any, notice string) {
	if err := s.audit(r, action, userObject(u), detail); err != nil {
		s.renderUsers(w, r, http.StatusInternalServerError, "users_audit_failed", "")
		return
	}
	http.Redirect(w, r, "/staff/users?done="+notice, http.StatusSeeOther)
}

// updateUser applies an admin's change to the user named in the path (the
// form is checked again, harmlessly, where the caller already read it). An
// admin may not disable or demote their own account, so that the last
// admin cannot lock everyone out by a slip.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, up vigil.UserUpdate, action, notice string, detail map[string]any) {
	if !s.userForm(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	me := userFrom(r.Context())
	if id == me.ID && (up.Disabled != nil || (up.Role != nil && !up.Role.Has(vigil.RoleAdmin))) {
		s.renderUsers(w, r, http.StatusBadRequest, "users_not_yourself", "")
		return
	}
	before, err := s.cfg.Users.FindUserByID(r.Context(), id)
	if err == nil {
		_, err = s.cfg.Users.UpdateUser(r.Context(), id, up)
	}
	if err != nil {
		if httpStatus(err) == http.StatusInternalServerError {
			s.logger.Error("update user", "err", err)
		}
		s.renderUsers(w, r, httpStatus(err), s.staffErrorText(r, err), "")
		return
	}
	if detail == nil {
		detail = map[string]any{}
	}
	detail["name"] = before.Name
	if up.Role != nil {
		detail["from"], detail["to"] = before.Role, *up.Role
	}
	s.userDone(w, r, action, before, detail, notice)
}

func (s *Server) handleUserDisable(w http.ResponseWriter, r *http.Request) {
	t := true
	s.updateUser(w, r, vigil.UserUpdate{Disabled: &t}, "user.disable", "disabled", nil)
}

func (s *Server) handleUserEnable(w http.ResponseWriter, r *http.Request) {
	f := false
	s.updateUser(w, r, vigil.UserUpdate{Disabled: &f}, "user.enable", "enabled", nil)
}

func (s *Server) handleUserResetTOTP(w http.ResponseWriter, r *http.Request) {
	s.updateUser(w, r, vigil.UserUpdate{ResetTOTP: true}, "user.totp_reset", "totp", nil)
}

func (s *Server) handleUserRole(w http.ResponseWriter, r *http.Request) {
	if !s.userForm(w, r) {
		return
	}
	role, err := vigil.ParseRole(formRoles(r))
	if err != nil {
		s.renderUsers(w, r, http.StatusBadRequest, s.staffErrorText(r, err), "")
		return
	}
	s.updateUser(w, r, vigil.UserUpdate{Role: &role}, "user.role", "role", nil)
}

func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	if !s.userForm(w, r) {
		return
	}
	pw := r.PostFormValue("password")
	if err := vigil.ValidatePassword(pw); err != nil {
		s.renderUsers(w, r, http.StatusBadRequest, s.staffErrorText(r, err), "")
		return
	}
	hash, err := auth.HashPassword(pw, s.cfg.Accounts.Argon2)
	if err != nil {
		s.logger.Error("reset password", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.updateUser(w, r, vigil.UserUpdate{PasswordHash: &hash}, "user.password", "password", nil)
}

// formRoles joins the roles chosen in a multiple select: an account may
// hold several.
func formRoles(r *http.Request) string {
	_ = r.PostFormValue("role") // parses the form
	return strings.Join(r.PostForm["role"], ",")
}
