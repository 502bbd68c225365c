package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

type partnersPage struct {
	Partners  []*vigil.Partner
	PublicKey string
	Notice    string
}

// partnersNotices are the confirmations shown after an action.
var partnersNotices = map[string]string{"added": "The partner was added.", "removed": "The partner was removed."}

// handlePartners lists the partner hotlines with their trust settings,
// and the forms that add and remove them. Our API key at a partner is
// never shown.
func (s *Server) handlePartners(w http.ResponseWriter, r *http.Request) {
	s.renderPartners(w, r, http.StatusOK, "", r.URL.Query().Get("done"))
}

func (s *Server) renderPartners(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	ps, err := s.cfg.Federation.Partners.ListPartners(r.Context())
	if err != nil {
		s.logger.Error("partners", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := s.newStaffPage(w, r, partnersPage{Partners: ps, PublicKey: s.cfg.Federation.PublicKey, Notice: partnersNotices[notice]})
	p.Error = errMsg
	s.render(w, r, status, "staff_partners", p)
}
