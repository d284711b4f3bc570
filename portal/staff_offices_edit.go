package portal

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// An office's week on the edit form: up to two opening times per weekday.
const officeSlots = 2

type officeSlot struct {
	N        int    // 1-based, for labels
	Name     string // field name prefix: hours-<day>-<n>
	From, To string // as typed
	Error    string // message ID
}

type officeDay struct {
	Day   int // ISO weekday, 1 = Monday
	Slots []officeSlot
}

type officeForm struct {
	Phone, Email string
	Days         []officeDay
	Errors       map[string]string // field → message ID
}

func newOfficeForm() *officeForm {
	f := &officeForm{Errors: map[string]string{}}
	for d := 1; d <= 7; d++ {
		day := officeDay{Day: d}
		for n := 1; n <= officeSlots; n++ {
			day.Slots = append(day.Slots, officeSlot{N: n, Name: "hours-" + strconv.Itoa(d) + "-" + strconv.Itoa(n)})
		}
		f.Days = append(f.Days, day)
	}
	return f
}

// officeFormFrom fills the form from the stored office: each line of the timetable goes to its days, earliest first.
func officeFormFrom(o storage.Office) *officeForm {
	f := newOfficeForm()
	f.Phone, f.Email = o.Phone, o.Email
	perDay := map[int][]storage.OpeningHours{}
	for _, h := range o.Hours {
		for _, d := range h.Days {
			if d >= 1 && d <= 7 {
				perDay[d] = append(perDay[d], h)
			}
		}
	}
	for i := range f.Days {
		hs := perDay[f.Days[i].Day]
		slices.SortFunc(hs, func(a, b storage.OpeningHours) int { return strings.Compare(a.From, b.From) })
		for n := 0; n < officeSlots && n < len(hs); n++ {
			f.Days[i].Slots[n].From, f.Days[i].Slots[n].To = hs[n].From, hs[n].To
		}
	}
	return f
}

// parseOfficeForm reads and validates the posted form. It returns the contacts and timetable to store, or the
// form with what was typed and a message per wrong field.
func parseOfficeForm(c *fiber.Ctx) (*officeForm, string, string, []storage.OpeningHours) {
	f := newOfficeForm()
	f.Phone = strings.Join(strings.Fields(c.FormValue("phone")), " ")
	f.Email = strings.TrimSpace(c.FormValue("email"))
	if !validOfficePhone(f.Phone) {
		f.Errors["phone"] = "staff.error.phone"
	}
	if !validOfficeEmail(f.Email) {
		f.Errors["email"] = "staff.error.email"
	}
	type span struct{ from, to string }
	groups := map[span][]int{}
	var order []span
	for i := range f.Days {
		day := &f.Days[i]
		prevTo := ""
		for n := range day.Slots {
			sl := &day.Slots[n]
			sl.From = strings.TrimSpace(c.FormValue(sl.Name + "-from"))
			sl.To = strings.TrimSpace(c.FormValue(sl.Name + "-to"))
			if sl.From == "" && sl.To == "" {
				continue
			}
			from, okFrom := clockTime(sl.From)
			to, okTo := clockTime(sl.To)
			switch {
			case sl.From == "" || sl.To == "":
				sl.Error = "staff.error.time_pair"
			case !okFrom || !okTo:
				sl.Error = "staff.error.time_format"
			case to <= from:
				sl.Error = "staff.error.time_order"
			case prevTo != "" && from < prevTo:
				sl.Error = "staff.error.time_overlap"
			}
			if sl.Error != "" {
				f.Errors[sl.Name] = sl.Error
				continue
			}
			prevTo = to
			sp := span{from, to}
			if _, seen := groups[sp]; !seen {
				order = append(order, sp)
			}
			groups[sp] = append(groups[sp], day.Day)
		}
	}
	if len(f.Errors) > 0 {
		return f, "", "", nil
	}
	// Days with the same times share one line, as the public page shows them: "lunedì, martedì: 09:00–12:30".
	hours := make([]storage.OpeningHours, 0, len(order))
	for _, sp := range order {
		hours = append(hours, storage.OpeningHours{Days: groups[sp], From: sp.from, To: sp.to})
	}
	slices.SortStableFunc(hours, func(a, b storage.OpeningHours) int {
		if a.Days[0] != b.Days[0] {
			return a.Days[0] - b.Days[0]
		}
		return strings.Compare(a.From, b.From)
	})
	return f, f.Phone, f.Email, hours
}

// clockTime reads "9:30" or "09:30" (what a time field sends) and returns it as "09:30".
func clockTime(s string) (string, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return "", false
	}
	return t.Format("15:04"), true
}

// validOfficePhone accepts an empty phone or one written with digits, spaces and + / - ( ) . — between 6 and 15
// digits, + only in front — and keeps it as typed (it is shown as staff wrote it).
func validOfficePhone(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > 30 {
		return false
	}
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case strings.ContainsRune(" ()./-", r):
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 15
}

// validOfficeEmail accepts an empty address or a bare address (no display name) with a dotted domain.
func validOfficeEmail(e string) bool {
	if e == "" {
		return true
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e || len(e) > 254 || strings.ContainsAny(e, " \"()<>[]\\,;:") {
		return false
	}
	domain := e[strings.LastIndexByte(e, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func (s *Server) showStaffOfficeEditPage(c *fiber.Ctx) error {
	o, err := s.DB.StaffOffice(c.UserContext(), currentStaff(c).ID, c.Params("code"))
	if err != nil {
		return err // ErrNotFound outside the scope too: a 404, which tells nothing about offices elsewhere
	}
	return s.renderStaffOffice(c, fiber.StatusOK, o, officeFormFrom(o), "")
}

func (s *Server) renderStaffOffice(c *fiber.Ctx, status int, o storage.Office, f *officeForm, alert string) error {
	z := s.localizer(c)
	return s.renderStaff(c, status, "staff_office_edit", z.T("staff.office.title", map[string]any{"Name": o.Name}),
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("staff.offices.title"), URL: "/backoffice/sedi"}},
		map[string]any{"Office": o, "Form": f, "Errors": f.Errors, "Alert": alert})
}

// submitStaffOffice saves an office's phone, e-mail and timetable. The update carries the scope condition as well,
// so an operatore posting to an office outside their sub-ambiti gets a 404 and changes nothing.
func (s *Server) submitStaffOffice(c *fiber.Ctx) error {
	ctx := c.UserContext()
	me := currentStaff(c)
	o, err := s.DB.StaffOffice(ctx, me.ID, c.Params("code"))
	if err != nil {
		return err
	}
	f, phone, email, hours := parseOfficeForm(c)
	if len(f.Errors) > 0 {
		return s.renderStaffOffice(c, fiber.StatusUnprocessableEntity, o, f, s.localizer(c).T("staff.error.form"))
	}
	if err := s.DB.UpdateStaffOffice(ctx, me.ID, o.Code, phone, email, hours); err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/backoffice/sedi", "staff.office.saved")
}
