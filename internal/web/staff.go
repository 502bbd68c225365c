package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

const sessionCookie = "vigil_session"

type userCtxKey struct{}

// staff admits signed-in staff with one of the given roles (any role when
// none is given). An anonymous page request is sent to the login page and
// any other anonymous request gets 401; a signed-in user without the role
// gets 403. Nothing of the page is ever served first.
func (s *Server) staff(next http.HandlerFunc, roles ...vigil.Role) http.Handler {
	return noStore(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := s.sessionUser(r)
		switch {
		case u == nil && r.Method == http.MethodGet:
			http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
		case u == nil:
			http.Error(w, "sign in first", http.StatusUnauthorized)
		case len(roles) > 0 && !slices.Contains(roles, u.Role):
			http.Error(w, "your role may not do this", http.StatusForbidden)
		default:
			next(w, r.WithContext(context.WithValue(r.Context(), userCtxKey{}, u)))
		}
	}))
}

func (s *Server) sessionUser(r *http.Request) *vigil.User {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.cfg.Users.FindSession(r.Context(), auth.HashToken(c.Value), s.cfg.Now(), s.cfg.SessionIdle)
	if err != nil {
		if !vigil.IsNotFound(err) {
			s.logger.Error("session look-up", "err", err)
		}
		return nil
	}
	u, err := s.cfg.Users.FindUserByID(r.Context(), sess.UserID)
	if err != nil || u.Disabled {
		return nil
	}
	return u
}

func userFrom(ctx context.Context) *vigil.User {
	u, _ := ctx.Value(userCtxKey{}).(*vigil.User)
	return u
}

// staffPage is what every staff template gets.
// Staff pages are in English for now; they share the public layout.
type staffPage struct {
	page
	User *vigil.User
}

func (s *Server) newStaffPage(w http.ResponseWriter, r *http.Request, data any) *staffPage {
	return &staffPage{
		page: page{Lang: vigil.LangEN, T: s.catalog.texts[vigil.LangEN], CSRF: s.csrfToken(w, r), Data: data},
		User: userFrom(r.Context()),
	}
}
