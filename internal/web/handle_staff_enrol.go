package web

import (
	"net/http"

	"rsc.io/qr"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

type enrolPage struct {
	Enrolled bool
	Required bool
	Secret   string
}

// handleEnrolForm shows the secret to enrol, as a QR code and as text. The
// secret is kept as pending in the store until a code from it is
// confirmed, so that reloading the page does not change it under a phone
// that has already scanned it.
func (s *Server) handleEnrolForm(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if u.HasTOTP() {
		s.render(w, r, http.StatusOK, "staff_enrol", s.newStaffPage(w, r, enrolPage{Enrolled: true}))
		return
	}
	secret, err := s.pendingSecret(r, u)
	if err != nil {
		s.logger.Error("enrol", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.render(w, r, http.StatusOK, "staff_enrol", s.newStaffPage(w, r, enrolPage{Required: u.Role.NeedsTOTP(), Secret: secret}))
}

func (s *Server) pendingSecret(r *http.Request, u *vigil.User) (string, error) {
	if u.TOTPPending != "" {
		return u.TOTPPending, nil
	}
	secret := auth.NewTOTPSecret()
	if err := s.cfg.Users.SetTOTPPending(r.Context(), u.ID, secret); err != nil {
		return "", err
	}
	u.TOTPPending = secret
	return secret, nil
}

// handleEnrolQR draws the pending secret's otpauth:// URI as a PNG, made in
// memory and never cached.
func (s *Server) handleEnrolQR(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if u.HasTOTP() || u.TOTPPending == "" {
		http.NotFound(w, r)
		return
	}
	code, err := qr.Encode(auth.TOTPURI(s.cfg.Accounts.Issuer, u.Name, u.TOTPPending), qr.M)
	if err != nil {
		s.logger.Error("enrol qr", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	code.Scale = 6
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(code.PNG())
}

// handleEnrol confirms the pending secret with a code from it and makes
// the current session a two-factor one.
func (s *Server) handleEnrol(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusForbidden, "form_expired")
		return
	}
	ctx := r.Context()
	u := userFrom(ctx)
	if u.HasTOTP() {
		http.Redirect(w, r, "/staff/enrol", http.StatusSeeOther)
		return
	}
	refuse := func(msg string) {
		p := s.newStaffPage(w, r, enrolPage{Required: u.Role.NeedsTOTP(), Secret: u.TOTPPending})
		p.Error = msg
		s.render(w, r, http.StatusBadRequest, "staff_enrol", p)
	}
	if u.TOTPPending == "" {
		http.Redirect(w, r, "/staff/enrol", http.StatusSeeOther)
		return
	}
	step, ok := auth.VerifyTOTP(u.TOTPPending, r.PostFormValue("code"), s.cfg.Now(), 0)
	if !ok {
		refuse("enrol_mismatch")
		return
	}
	if err := s.cfg.Users.ConfirmTOTP(ctx, u.ID, u.TOTPPending, step); err != nil {
		if vigil.ErrorCode(err) == vigil.ECONFLICT {
			refuse(vigil.ErrorMessage(err))
			return
		}
		s.logger.Error("enrol", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := s.cfg.Users.SetSessionTwoFactor(ctx, sessionFrom(ctx).TokenHash); err != nil {
		s.logger.Error("enrol", "err", err)
	}
	_ = s.audit(r, "totp.enrol", userObject(u), nil)
	http.Redirect(w, r, "/staff/", http.StatusSeeOther)
}
