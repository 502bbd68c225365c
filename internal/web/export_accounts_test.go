package web

// StaffRoutes lists the routes registered with staffRoute, for the
// access-control test.
func (s *Server) StaffRoutes() []StaffRoute { return append([]StaffRoute(nil), s.staffRoutes...) }

// Refusal texts of the staff gate.
const (
	RefusedSignIn = refusedSignIn
	RefusedRole   = refusedRole
	RefusedTOTP   = refusedTOTP
)
