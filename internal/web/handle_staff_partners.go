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

// partnersNotices are the confirmations shown after an action, as
// catalogue keys (so that a link cannot make the page say anything else).
var partnersNotices = map[string]string{"added": "partners_done_added", "removed": "partners_done_removed"}

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
	data := partnersPage{Partners: ps, PublicKey: s.cfg.Federation.PublicKey}
	p := s.newStaffPage(w, r, &data)
	if key, ok := partnersNotices[notice]; ok {
		data.Notice = p.text(key)
	}
	p.Error = errMsg
	s.render(w, r, status, "staff_partners", p)
}
