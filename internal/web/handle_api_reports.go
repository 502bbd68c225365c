package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/vigil-hotline/vigil"
)

// apiReport is the body of POST /api/v1/reports.
type apiReport struct {
	URLs        []string `json:"urls"`
	Description string   `json:"description"`
	Language    string   `json:"language"`
	// Saw lists what the reporter saw: "images", "videos", "other".
	Saw     []string `json:"saw"`
	Contact string   `json:"contact"`
}

type apiReportStatus struct {
	TrackingCode string `json:"tracking_code"`
	Status       string `json:"status"`
	// CaseReferences are the cases the report's URLs are, in the order
	// given (a URL reported before joins its existing case): the
	// references staff, notices and packages use, so that a partner's
	// question names the right case.
	CaseReferences []string `json:"case_references"`
}

// reportStatus is the API's answer about rep.
func (s *Server) reportStatus(rep *vigil.Report) apiReportStatus {
	out := apiReportStatus{TrackingCode: rep.TrackingCode, Status: string(rep.Status), CaseReferences: []string{}}
	for _, u := range rep.URLs {
		out.CaseReferences = append(out.CaseReferences, vigil.CaseReference(s.cfg.Takedown.CaseRefPrefix, u.ID, u.FirstReportedAt))
	}
	return out
}

// handleAPIReportCreate files a report for a partner.
func (s *Server) handleAPIReportCreate(w http.ResponseWriter, r *http.Request) {
	in, err := decodeAPIReport(w, r)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	input := vigil.ReportInput{URLs: in.URLs, Description: in.Description, Language: in.Language, Contact: in.Contact}
	for _, x := range in.Saw {
		switch x {
		case "images":
			input.SawImages = true
		case "videos":
			input.SawVideos = true
		case "other":
			input.SawOther = true
		default:
			s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, `"saw" takes "images", "videos" and "other", not %q`, x))
			return
		}
	}
	if len(in.URLs) > vigil.MaxReportURLs {
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "a report may hold at most %d URLs", vigil.MaxReportURLs))
		return
	}
	rep, err := vigil.NewReport(input, vigil.SourceAPI, s.cfg.Now())
	if err == nil {
		rep.APIKeyID = apiKeyFrom(r.Context()).ID
		err = s.cfg.Reports.CreateReport(r.Context(), rep)
	}
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	s.logger.Info("report received", "source", "api", "api_key", apiKeyFrom(r.Context()).Name, "urls", len(rep.URLs))
	writeJSON(w, http.StatusCreated, s.reportStatus(rep))
}

func decodeAPIReport(w http.ResponseWriter, r *http.Request) (*apiReport, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, vigil.Errorf(vigil.EINVALID, "the body must be JSON (Content-Type: application/json)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, vigil.MaxReportBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, vigil.Errorf(vigil.ETOOLARGE, "the body is larger than %d bytes", vigil.MaxReportBodyBytes)
		}
		return nil, vigil.Errorf(vigil.EINVALID, "the body could not be read")
	}
	// encoding/json would quietly replace invalid UTF-8; refuse it instead.
	if !utf8.Valid(body) {
		return nil, vigil.Errorf(vigil.EINVALID, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in apiReport
	if err := dec.Decode(&in); err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "the body is not a valid report: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, vigil.Errorf(vigil.EINVALID, "the body must hold one JSON object")
	}
	return &in, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it is empty or cut short"
	}
	return "it could not be read"
}

// handleAPIReportStatus answers a report's coarse status.
func (s *Server) handleAPIReportStatus(w http.ResponseWriter, r *http.Request) {
	rep, err := s.cfg.Reports.FindReportByTrackingCode(r.Context(), r.PathValue("code"))
	if err == nil && !apiKeyFrom(r.Context()).CanReadReportStatus(rep) {
		// Answered as unknown, so that a key cannot learn which codes
		// exist.
		err = vigil.Errorf(vigil.ENOTFOUND, "no report with tracking code %s", r.PathValue("code"))
	}
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.reportStatus(rep))
}
