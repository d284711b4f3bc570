package portal

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Page sizes of GET /api/v1/applications.
const (
	apiDefaultLimit = 50
	apiMaxLimit     = 200
)

// listAPIApplications lists submitted applications (never drafts), oldest first, a page at a time: the response's
// next is the cursor of the following page, null on the last one.
func (s *Server) listAPIApplications(c *fiber.Ctx) error {
	f := storage.CaseFilter{Limit: apiDefaultLimit, Measure: c.Query("measure"), Status: c.Query("status")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > apiMaxLimit {
			return apiErr(fiber.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(apiMaxLimit))
		}
		f.Limit = n
	}
	if v := c.Query("call_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return apiErr(fiber.StatusBadRequest, "call_id must be a call's numeric ID")
		}
		f.CallID = n
	}
	if f.Measure != "" && !slices.ContainsFunc(forms.Measures, func(m forms.Measure) bool { return m.Code == f.Measure }) {
		return apiErr(fiber.StatusBadRequest, "measure must be one of "+strings.Join(measureCodes(), ", "))
	}
	if f.Status != "" && !slices.Contains(storage.Statuses, f.Status) {
		return apiErr(fiber.StatusBadRequest, "status must be one of "+strings.Join(storage.Statuses, ", "))
	}
	if v := c.Query("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return apiErr(fiber.StatusBadRequest, "updated_since must be an RFC 3339 date-time, e.g. 2026-11-23T09:00:00+01:00")
		}
		f.UpdatedSince = &t
	}
	if v := c.Query("after"); v != "" {
		id, ok := parseAPICursor(v)
		if !ok {
			return apiErr(fiber.StatusBadRequest, "after must be the next cursor of a previous page")
		}
		f.After = id
	}
	want := f.Limit
	f.Limit++ // one more tells whether a next page exists
	list, err := s.DB.CaseSummaries(c.UserContext(), apiScope(c), f)
	if err != nil {
		return err
	}
	out := apiApplicationList{Items: make([]apiApplicationSummary, 0, min(len(list), want))}
	for _, a := range list[:min(len(list), want)] {
		out.Items = append(out.Items, apiSummaryOf(a))
	}
	if len(list) > want {
		next := apiCursor(list[want-1].ID)
		out.Next = &next
	}
	return c.JSON(out)
}

func measureCodes() []string {
	codes := make([]string, len(forms.Measures))
	for i, m := range forms.Measures {
		codes[i] = m.Code
	}
	return codes
}

// apiCursor is the opaque cursor of the page after the application id: clients pass it back, never build it.
func apiCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a:" + strconv.FormatInt(id, 10)))
}

func parseAPICursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "a:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}
