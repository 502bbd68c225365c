package web

import (
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// reportForm is the form as the reporter filled it in, given back to them
// with the error when a report is refused.
type reportForm struct {
	URLs        string
	Description string
	Contact     string
	SawImages   bool
	SawVideos   bool
	SawOther    bool
}

// handleReportForm shows the public report form.
func (s *Server) handleReportForm(w http.ResponseWriter, r *http.Request) {
	lang := s.catalog.language(r)
	s.render(w, r, http.StatusOK, "report", s.newPage(w, r, lang).with(reportForm{}))
}

// handleReportSubmit accepts a report from the form. Every refusal is a
// 4xx with the form given back and nothing stored.
func (s *Server) handleReportSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, vigil.MaxReportBodyBytes); err != nil {
		s.refuseReport(w, r, s.catalog.language(r), reportForm{}, err)
		return
	}
	lang := s.catalog.language(r)
	form := reportForm{
		URLs:        r.PostFormValue("urls"),
		Description: r.PostFormValue("description"),
		Contact:     r.PostFormValue("contact"),
		SawImages:   r.PostFormValue("saw_images") != "",
		SawVideos:   r.PostFormValue("saw_videos") != "",
		SawOther:    r.PostFormValue("saw_other") != "",
	}
	switch {
	case !s.checkCSRF(r):
		s.refuseReport(w, r, lang, form, keyError(vigil.EFORBIDDEN, "err_csrf"))
		return
	case r.PostFormValue("website") != "":
		// The honeypot: a field people never see, that form-filling bots do.
		s.refuseReport(w, r, lang, form, keyError(vigil.EINVALID, "err_honeypot"))
		return
	case !s.formLimit.allow(s.clientKey(r)):
		s.refuseReport(w, r, lang, form, keyError(vigil.ERATELIMIT, "err_rate_limited"))
		return
	}
	rep, err := vigil.NewReport(vigil.ReportInput{
		URLs:        strings.Split(form.URLs, "\n"),
		Description: form.Description,
		Language:    string(lang),
		SawImages:   form.SawImages,
		SawVideos:   form.SawVideos,
		SawOther:    form.SawOther,
		Contact:     form.Contact,
	}, vigil.SourceForm, s.cfg.Now())
	if err == nil {
		err = s.cfg.Reports.CreateReport(r.Context(), rep)
	}
	if err != nil {
		s.refuseReport(w, r, lang, form, err)
		return
	}
	s.logger.Info("report received", "source", "form", "urls", len(rep.URLs), "language", rep.Language)
	s.render(w, r, http.StatusOK, "report_done", s.newPage(w, r, lang).with(rep.TrackingCode))
}

func (s *Server) refuseReport(w http.ResponseWriter, r *http.Request, lang vigil.Language, form reportForm, err error) {
	status := httpStatus(err)
	if status >= 500 {
		s.logger.Error("report not stored", "err", err)
	}
	p := s.newPage(w, r, lang).with(form)
	p.Error = s.userMessage(lang, err)
	s.render(w, r, status, "report", p)
}

func (p *page) with(data any) *page {
	p.Data = data
	return p
}
