package web

import (
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// handlePartnerAdd adds a partner hotline from the admin's form. The
// trust settings default as the CLI's: baseline accepted, national-law
// not, hashes only.
func (s *Server) handlePartnerAdd(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 16<<10); err != nil || !s.checkCSRF(r) {
		s.renderPartners(w, r, http.StatusForbidden, msgExpired, "")
		return
	}
	p := vigil.NewPartner(strings.TrimSpace(r.PostFormValue("name")))
	p.BaseURL = r.PostFormValue("url")
	p.PublicKey = r.PostFormValue("public_key")
	p.APIKey = r.PostFormValue("api_key")
	p.AgeRecipient = r.PostFormValue("age_recipient")
	p.AcceptBaseline = r.PostFormValue("accept_baseline") == "on"
	p.AcceptNational = r.PostFormValue("accept_national") == "on"
	p.SendMedia = r.PostFormValue("send_media") == "on"
	cs, err := vigil.ParseCountries(r.PostFormValue("countries"))
	if err == nil {
		p.Countries = cs
		err = s.cfg.Federation.Partners.CreatePartner(r.Context(), p)
	}
	if err != nil {
		if httpStatus(err) == http.StatusInternalServerError {
			s.logger.Error("add partner", "err", err)
		}
		s.renderPartners(w, r, httpStatus(err), s.staffErrorText(r, err), "")
		return
	}
	if err := s.audit(r, "partner.add", "partner:"+p.Name, map[string]any{"countries": p.Countries, "url": p.BaseURL,
		"accept_baseline": p.AcceptBaseline, "accept_national": p.AcceptNational, "send_media": p.SendMedia}); err != nil {
		s.renderPartners(w, r, http.StatusInternalServerError, "partners_audit_failed_add", "")
		return
	}
	http.Redirect(w, r, "/staff/partners?done=added", http.StatusSeeOther)
}
