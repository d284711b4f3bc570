package portal

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The audit log viewer (admins only): a search form sent by GET, so a search is a link an admin can keep, and
// pages that follow the log by keyset. It reads and never writes: the log is append-only in the database too.

const (
	auditPath     = "/backoffice/audit"
	auditPageSize = 50
)

var (
	protocolPattern = regexp.MustCompile(`^CSC-[0-9]{4}-[0-9]{6}$`)
	actionPattern   = regexp.MustCompile(`^[a-z_.]{2,60}$`)
)

// auditActions are offered as suggestions in the action field (any action the log holds can be typed).
var auditActions = []string{"application.read", "application.status", "document.read", "ranking.read", "ranking.run",
	"ranking.approve", "ranking.export"}

// auditForm is the search as typed, kept on the page whatever its mistakes.
type auditForm struct {
	User, Application, Action, From, To string
	Errors                              map[string]string // field → message ID
}

// auditRow is one line of the log, formatted for the page.
type auditRow struct {
	storage.AuditLine
	CasePath string   // the application's back-office page, "" for a line about none
	Detail   []string // "key: value", by key
}

// showStaffAuditPage searches the audit log: by account (username), application (protocol number or ID),
// action and days (Europe/Rome), newest first. A filter that cannot be read is a 422 with its message, the
// search kept as typed.
func (s *Server) showStaffAuditPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	z := s.localizer(c)
	f := &auditForm{User: strings.TrimSpace(c.Query("utente")), Application: strings.TrimSpace(c.Query("pratica")),
		Action: strings.TrimSpace(c.Query("azione")), From: strings.TrimSpace(c.Query("dal")),
		To: strings.TrimSpace(c.Query("al")), Errors: map[string]string{}}
	filter := storage.AuditFilter{Limit: auditPageSize}
	if f.User != "" {
		u, err := s.DB.StaffUserByUsername(ctx, strings.ToLower(f.User))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			f.Errors["utente"] = "staff.audit.error.unknown_user"
		case err != nil:
			return err
		default:
			filter.StaffID = u.ID
		}
	}
	if f.Application != "" {
		if p := strings.ToUpper(f.Application); protocolPattern.MatchString(p) {
			filter.Protocol = p
		} else if id, err := strconv.ParseInt(f.Application, 10, 64); err == nil && id > 0 {
			filter.ApplicationID = id
		} else {
			f.Errors["pratica"] = "staff.audit.error.application"
		}
	}
	if f.Action != "" {
		if actionPattern.MatchString(f.Action) {
			filter.Action = f.Action
		} else {
			f.Errors["azione"] = "staff.audit.error.action"
		}
	}
	day := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		d, msg := forms.ParseDate(v, z.Lang.Code)
		if msg != "" {
			f.Errors[field] = msg
			return time.Time{}
		}
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, i18n.Rome)
	}
	filter.From = day("dal", f.From)
	if to := day("al", f.To); !to.IsZero() {
		filter.To = to.AddDate(0, 0, 1) // the whole day
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
		f.Errors["al"] = "staff.audit.error.range"
	}
	if v := c.Query("dopo"); v != "" {
		cur, err := parseAuditCursor(v)
		if err != nil {
			return errBadRequest(err)
		}
		filter.After = &cur
	}
	title := z.T("staff.audit.title")
	crumbs := []views.Crumb{s.staffCrumb(c)}
	data := map[string]any{"Form": f, "Errors": f.Errors, "Actions": auditActions}
	if len(f.Errors) > 0 {
		data["Alert"] = z.T("staff.audit.error.summary")
		return s.renderStaff(c, fiber.StatusUnprocessableEntity, "staff_audit", title, crumbs, data)
	}
	lines, more, err := s.DB.SearchAudit(ctx, filter)
	if err != nil {
		return err
	}
	rows := make([]auditRow, 0, len(lines))
	for _, l := range lines {
		row := auditRow{AuditLine: l, Detail: auditDetail(l.Detail)}
		if l.ApplicationID != nil {
			row.CasePath = casePath(*l.ApplicationID)
		}
		rows = append(rows, row)
	}
	data["Rows"], data["Paged"] = rows, filter.After != nil
	q := url.Values{}
	for k, v := range map[string]string{"utente": f.User, "pratica": f.Application, "azione": f.Action, "dal": f.From, "al": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	data["FirstPath"] = auditPath
	if len(q) > 0 {
		data["FirstPath"] = auditPath + "?" + q.Encode()
	}
	if more {
		q.Set("dopo", formatAuditCursor(lines[len(lines)-1].Cursor()))
		data["NextPath"] = auditPath + "?" + q.Encode()
	}
	return s.renderStaff(c, fiber.StatusOK, "staff_audit", title, crumbs, data)
}

// The cursor in the address is the last line's time (microseconds, the database's precision) and ID.
func formatAuditCursor(cur storage.AuditCursor) string {
	return strconv.FormatInt(cur.At.UnixMicro(), 10) + "-" + strconv.FormatInt(cur.ID, 10)
}

func parseAuditCursor(v string) (storage.AuditCursor, error) {
	at, id, ok := strings.Cut(v, "-")
	micro, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return storage.AuditCursor{}, fmt.Errorf("audit: bad cursor %q", v)
	}
	return storage.AuditCursor{At: time.UnixMicro(micro), ID: n}, nil
}

// auditDetail shows a line's detail as "key: value", by key.
func auditDetail(d map[string]any) []string {
	out := make([]string, 0, len(d))
	for k, v := range d {
		out = append(out, k+": "+fmt.Sprint(v))
	}
	slices.Sort(out)
	return out
}
