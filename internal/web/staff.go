package web

import (
	"context"
	"net/http"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

const sessionCookie = "vigil_session"

type userCtxKey struct{}
type sessionCtxKey struct{}

// StaffRoute is one staff route as registered with staffRoute: the
// access-control test walks every one of them with every role.
type StaffRoute struct {
	Pattern string // "METHOD /staff/…"
	// Roles may use the route; empty means every signed-in staff member.
	Roles []vigil.Role
	// BeforeTOTP routes (enrolment, sign-out) are open to a user who still
	// has to enrol a second factor; all others are not.
	BeforeTOTP bool
}

// staffRoute registers a staff page or action behind the staff gate (see
// staff) and records it for the access-control test. Every route under
// /staff/ except the login form goes through here.
func (s *Server) staffRoute(mux *http.ServeMux, pattern string, h http.HandlerFunc, roles ...vigil.Role) {
	s.addStaffRoute(mux, StaffRoute{Pattern: pattern, Roles: roles}, h)
}

func (s *Server) addStaffRoute(mux *http.ServeMux, rt StaffRoute, h http.HandlerFunc) {
	s.staffRoutes = append(s.staffRoutes, rt)
	mux.Handle(rt.Pattern, s.gate(h, rt.BeforeTOTP, rt.Roles...))
}

// staff admits signed-in staff with one of the given roles (any role when
// none is given). Prefer staffRoute, which also records the route.
func (s *Server) staff(next http.HandlerFunc, roles ...vigil.Role) http.Handler {
	return s.gate(next, false, roles...)
}

// Refusal texts of the gate; the access-control test tells the gate's
// refusals from a handler's own by them.
const (
	refusedSignIn = "sign in first"
	refusedRole   = "your role may not do this"
	refusedTOTP   = "set up two-factor authentication first"
)

// gate admits signed-in staff with one of the roles. An anonymous page
// request is sent to the login page and any other anonymous request gets
// 401; a user who must use a second factor and has not enrolled one is sent
// to enrolment (403 for anything but a page); a signed-in user without the
// role gets 403. Nothing of the page is ever served first.
func (s *Server) gate(next http.HandlerFunc, beforeTOTP bool, roles ...vigil.Role) http.Handler {
	return noStore(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, sess := s.sessionUser(r)
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case u == nil && get:
			http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
		case u == nil:
			http.Error(w, refusedSignIn, http.StatusUnauthorized)
		case !sess.TwoFactor && (u.Role.NeedsTOTP() || u.HasTOTP()) && !beforeTOTP:
			if get {
				http.Redirect(w, r, "/staff/enrol", http.StatusSeeOther)
				return
			}
			http.Error(w, refusedTOTP, http.StatusForbidden)
		case len(roles) > 0 && !u.Role.HasAny(roles...):
			s.forbidden(w, r.WithContext(context.WithValue(r.Context(), userCtxKey{}, u)), roles)
		default:
			ctx := context.WithValue(r.Context(), userCtxKey{}, u)
			ctx = context.WithValue(ctx, sessionCtxKey{}, sess)
			next(w, r.WithContext(ctx))
		}
	}))
}

// sessionUser returns the signed-in user and their session, or nils. A
// session whose user has enrolled a second factor since it was opened
// without one (on another device) counts as signed out.
func (s *Server) sessionUser(r *http.Request) (*vigil.User, *vigil.Session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := s.cfg.Users.FindSession(r.Context(), auth.HashToken(c.Value), s.cfg.Now(), s.cfg.SessionIdle)
	if err != nil {
		if !vigil.IsNotFound(err) {
			s.logger.Error("session look-up", "err", err)
		}
		return nil, nil
	}
	u, err := s.cfg.Users.FindUserByID(r.Context(), sess.UserID)
	if err != nil || u.Disabled {
		return nil, nil
	}
	if !sess.TwoFactor && u.HasTOTP() {
		return nil, nil
	}
	return u, sess
}

func userFrom(ctx context.Context) *vigil.User {
	u, _ := ctx.Value(userCtxKey{}).(*vigil.User)
	return u
}

func sessionFrom(ctx context.Context) *vigil.Session {
	sess, _ := ctx.Value(sessionCtxKey{}).(*vigil.Session)
	return sess
}

// staffPage is what every staff template gets, in the staff member's
// language (staffLanguage).
type staffPage struct {
	page
	User *vigil.User
	// Nav holds the staff pages this user may open, from the route
	// registry, so that no link leads to a refusal.
	Nav []navLink
	// Back is the page's own address, where the language switch returns.
	Back string
}

type navLink struct{ Path, Label, ID string }

// staffNav is the staff menu, in order, with the catalogue keys of the
// labels; each entry shows only to those whom its GET route admits.
var staffNav = []navLink{
	{"/staff/", "nav_overview", ""}, {"/staff/queue", "nav_queue", ""}, {"/staff/jobs", "nav_jobs", ""}, {"/staff/takedowns", "nav_takedowns", ""}, {"/staff/map", "nav_map", "nav-map"},
	{"/staff/victims", "nav_victims", ""}, {"/staff/statistics", "nav_statistics", "nav-statistics"}, {"/staff/users", "nav_users", ""},
	{"/staff/partners", "nav_partners", ""}, {"/staff/exchanges", "nav_exchanges", ""},
	{"/staff/audit", "nav_audit", ""}, {"/staff/enrol", "nav_enrol", ""},
}

// staffLanguage picks the staff pages' language: ?lang= for one page (the
// statistics' links), then the language the account chose in the menu,
// then the browser's Accept-Language.
func (s *Server) staffLanguage(r *http.Request) vigil.Language {
	if l, ok := vigil.ParseLanguage(r.URL.Query().Get("lang")); ok {
		return l
	}
	if u := userFrom(r.Context()); u != nil {
		if l, ok := vigil.ParseLanguage(string(u.Language)); ok {
			return l
		}
	}
	return s.catalog.language(r)
}

// mayGet reports whether u passes the gate of the GET route at path.
func (s *Server) mayGet(u *vigil.User, path string) bool {
	for _, rt := range s.staffRoutes {
		if rt.Pattern == "GET "+path || rt.Pattern == "GET "+path+"{$}" {
			return len(rt.Roles) == 0 || u.Role.HasAny(rt.Roles...)
		}
	}
	return false
}

type forbiddenData struct {
	Roles []vigil.Role
}

// forbidden answers a signed-in user whose roles may not use a page with
// the staff layout, saying which roles may and who can grant them.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, roles []vigil.Role) {
	s.render(w, r, http.StatusForbidden, "staff_forbidden", s.newStaffPage(w, r, forbiddenData{Roles: roles}))
}

func (s *Server) newStaffPage(w http.ResponseWriter, r *http.Request, data any) *staffPage {
	lang := s.staffLanguage(r)
	p := &staffPage{
		page: page{Lang: lang, T: s.catalog.texts[lang], CSRF: s.csrfToken(w, r), Data: data, loc: s.cfg.Statistics.loc()},
		User: userFrom(r.Context()),
		Back: "/staff/",
	}
	// A page shown for a form's answer has no address of its own to
	// return to; the overview then.
	if r.Method == http.MethodGet {
		p.Back = r.URL.RequestURI()
	}
	for _, l := range vigil.Languages {
		p.Langs = append(p.Langs, langLink{Code: l, Name: s.catalog.T(l, "lang_name"), Current: l == lang})
	}
	if p.User != nil {
		for _, l := range staffNav {
			if s.mayGet(p.User, l.Path) {
				p.Nav = append(p.Nav, navLink{Path: l.Path, Label: p.text(l.Label), ID: l.ID})
			}
		}
	}
	return p
}
