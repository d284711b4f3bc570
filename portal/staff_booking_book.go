package portal

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Booking for a resident on the phone: find them by fiscal code (or register them with names and a contact),
// choose the service and a free time at the office, confirm. The booking goes through storage.Book like a
// resident's, so PostgreSQL alone decides who gets the last place, and the resident gets the usual confirmation.

const staffBookPath = calendarPath + "/prenota"

func staffBookURL(office, cf string, extra ...string) string {
	v := url.Values{"sede": {office}, "cf": {cf}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	return staffBookPath + "?" + v.Encode()
}

// bookFor is the state of the booking page.
type bookFor struct {
	Office   storage.Office
	CF       string
	CFError  string
	Person   *storage.Person
	Register bool // the fiscal code is not known: the registration form is shown
	Services []storage.OfficeService
	Service  storage.OfficeService
	Day      dayView
	Days     []dayView
	Slots    []slotView
}

// showStaffBookForPage is the booking page: search, then registration or the choice of time.
func (s *Server) showStaffBookForPage(c *fiber.Ctx) error {
	f := newForm()
	f.Values["servizio"], f.Values["giorno"] = c.Query("servizio"), c.Query("giorno")
	return s.renderBookFor(c, fiber.StatusOK, c.Query("sede"), c.Query("cf"), f, newForm())
}

// calendarOffice is an office in the account's scope that offers appointments, or 404.
func (s *Server) calendarOffice(c *fiber.Ctx, code string) (storage.Office, error) {
	offices, err := s.DB.CalendarOffices(c.UserContext(), currentStaff(c).ID)
	if err != nil {
		return storage.Office{}, err
	}
	i := slices.IndexFunc(offices, func(o storage.Office) bool { return o.Code == code })
	if i < 0 {
		return storage.Office{}, errNotFound(errors.New("calendar: office " + code + " not in scope"))
	}
	return offices[i], nil
}

// renderBookFor renders the booking page for the typed fiscal code, with the booking form (book) and the
// registration form (reg) as typed. status is raised to 422 when the fiscal code is not valid.
func (s *Server) renderBookFor(c *fiber.Ctx, status int, office, cf string, book, reg *formState) error {
	ctx := c.UserContext()
	z := s.localizer(c)
	o, err := s.calendarOffice(c, office)
	if err != nil {
		return err
	}
	v := bookFor{Office: o, CF: strings.TrimSpace(cf)}
	if v.CF != "" {
		parsed, msg := forms.ParseCodiceFiscale(v.CF, s.now().In(i18n.Rome))
		if msg != "" {
			v.CFError = msg
			status = max(status, fiber.StatusUnprocessableEntity)
		} else {
			v.CF = parsed.Code
			p, err := s.DB.PersonByFiscalCode(ctx, parsed.Code)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				v.Register = true
				if reg.Values["lingua"] == "" {
					reg.Values["lingua"] = "it"
				}
			case err != nil:
				return err
			default:
				v.Person = &p
				if err := s.bookForSlots(c, &v, book); err != nil {
					return err
				}
			}
		}
	}
	crumbs := []views.Crumb{s.staffCrumb(c), {Title: z.T("calendar.title"), URL: calendarURL(o.Code, s.now())}}
	return s.renderStaff(c, status, "staff_calendar_book", z.T("calendar.book.title"), crumbs,
		map[string]any{"V": v, "Book": book, "Reg": reg, "Action": staffBookPath})
}

// bookForSlots fills in the services of the office and the free times of the chosen service on the chosen day
// (the first day with free places by default), with the next days that have some.
func (s *Server) bookForSlots(c *fiber.Ctx, v *bookFor, f *formState) error {
	ctx := c.UserContext()
	services, err := s.DB.OfficeServices(ctx, v.Office.Code)
	if err != nil {
		return err
	}
	v.Services = services
	i := slices.IndexFunc(services, func(os storage.OfficeService) bool { return os.Code == f.Values["servizio"] })
	if i < 0 {
		i = 0
	}
	v.Service = services[i]
	f.Values["servizio"] = v.Service.Code
	if f.Values["modalita"] == "" {
		f.Values["modalita"] = v.Service.Modes[0]
	}
	if f.Values["lingua"] == "" {
		f.Values["lingua"] = v.Person.Lang
	}
	f.Values["key"] = orNewKey(f.Values["key"])
	now := s.now()
	today := slots.DayOf(now, i18n.Rome)
	free, err := s.DB.FreeSlots(ctx, v.Service.Service, storage.ServiceOffice{Office: v.Office, Capacity: v.Service.Capacity},
		today, today+366, now)
	if err != nil {
		return err
	}
	days := slots.Days(free, i18n.Rome)
	day, err := slots.ParseDay(f.Values["giorno"])
	if err != nil {
		day = today
		if len(days) > 0 {
			day = days[0]
		}
	}
	f.Values["giorno"] = day.String()
	on := slots.On(free, day, i18n.Rome)
	v.Day, v.Slots = viewDay(day, len(on)), viewSlots(on)
	for _, d := range days {
		if d != day && len(v.Days) < 10 {
			v.Days = append(v.Days, viewDay(d, len(slots.On(free, d, i18n.Rome))))
		}
	}
	return nil
}

// submitStaffPersonCreate registers a resident who has no account yet, from what they say on the phone.
func (s *Server) submitStaffPersonCreate(c *fiber.Ctx) error {
	office, cf := c.FormValue("sede"), c.FormValue("cf")
	if _, err := s.calendarOffice(c, office); err != nil {
		return err
	}
	reg := newForm()
	for _, k := range []string{"nome", "cognome", "telefono", "email", "lingua"} {
		reg.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	parsed, msg := forms.ParseCodiceFiscale(cf, s.now().In(i18n.Rome))
	if msg != "" {
		return s.renderBookFor(c, fiber.StatusUnprocessableEntity, office, cf, newForm(), reg)
	}
	n := storage.NewPersonByStaff{FiscalCode: parsed.Code, GivenName: reg.Values["nome"], FamilyName: reg.Values["cognome"],
		Lang: reg.Values["lingua"]}
	for _, name := range []string{"nome", "cognome"} {
		if v := reg.Values[name]; v == "" {
			reg.fail(name, "calendar.person.error."+name+"_required")
		} else if utf8.RuneCountInString(v) > 100 {
			reg.fail(name, "calendar.person.error.name_long")
		}
	}
	var m string
	n.Phone, m = forms.NormalizePhone(reg.Values["telefono"])
	reg.fail("telefono", m)
	if reg.Values["email"] != "" {
		n.Email, m = forms.NormalizeEmail(reg.Values["email"])
		reg.fail("email", m)
	}
	if reg.Values["telefono"] == "" && reg.Values["email"] == "" {
		reg.fail("telefono", "calendar.person.error.contact_required")
	}
	if !meetingLanguage(n.Lang) {
		reg.fail("lingua", "appointments.error.lang")
	}
	if !reg.ok() {
		return s.renderBookFor(c, fiber.StatusUnprocessableEntity, office, cf, newForm(), reg)
	}
	_, err := s.DB.CreatePersonByStaff(c.UserContext(), staffActor(c), n)
	if errors.Is(err, storage.ErrConflict) {
		if _, err := s.DB.PersonByFiscalCode(c.UserContext(), n.FiscalCode); err == nil { // registered meanwhile
			return c.Redirect(staffBookURL(office, n.FiscalCode), fiber.StatusSeeOther)
		}
		reg.fail("email", "calendar.person.error.email_taken")
		return s.renderBookFor(c, fiber.StatusConflict, office, cf, newForm(), reg)
	}
	if err != nil {
		return err
	}
	return s.redirectWithNotice(c, staffBookURL(office, n.FiscalCode), "calendar.person.created")
}

// submitStaffBookFor books the chosen time for the resident. A time no longer offered, or just taken by someone
// else, is explained on the same page with the times still free.
func (s *Server) submitStaffBookFor(c *fiber.Ctx) error {
	ctx := c.UserContext()
	office, cf := c.FormValue("sede"), c.FormValue("cf")
	o, err := s.calendarOffice(c, office)
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"servizio", "giorno", "inizio", "modalita", "lingua", "interprete", "key"} {
		f.Values[k] = c.FormValue(k)
	}
	parsed, msg := forms.ParseCodiceFiscale(cf, s.now().In(i18n.Rome))
	if msg != "" {
		return s.renderBookFor(c, fiber.StatusUnprocessableEntity, office, cf, f, newForm())
	}
	p, err := s.DB.PersonByFiscalCode(ctx, parsed.Code)
	if errors.Is(err, storage.ErrNotFound) {
		return s.renderBookFor(c, fiber.StatusUnprocessableEntity, office, cf, f, newForm())
	}
	if err != nil {
		return err
	}
	if !startKey.MatchString(f.Values["key"]) {
		return errBadRequest(errors.New("calendar: confirm key missing or malformed"))
	}
	if b, err := s.DB.BookingByKey(ctx, f.Values["key"], p.ID); err == nil { // a double click
		return s.redirectWithNotice(c, calendarURL(b.Office, b.StartsAt), "calendar.book.done")
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	services, err := s.DB.OfficeServices(ctx, o.Code)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(services, func(os storage.OfficeService) bool { return os.Code == f.Values["servizio"] })
	if i < 0 {
		return errNotFound(errors.New("calendar: service not offered at " + o.Code))
	}
	svc := services[i]
	if !slices.Contains(svc.Modes, f.Values["modalita"]) {
		f.fail("modalita", "appointments.error.mode")
	}
	if !meetingLanguage(f.Values["lingua"]) {
		f.fail("lingua", "appointments.error.lang")
	}
	start, err := strconv.ParseInt(f.Values["inizio"], 10, 64)
	if err != nil {
		f.fail("inizio", "calendar.book.error.time")
	}
	if !f.ok() {
		return s.renderBookFor(c, fiber.StatusUnprocessableEntity, office, cf, f, newForm())
	}
	t := bookingTarget{Service: svc.Service, Office: storage.ServiceOffice{Office: o, Capacity: svc.Capacity}}
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return err
	}
	if why != "" {
		f.Error = why
		return s.renderBookFor(c, fiber.StatusUnprocessableEntity, office, cf, f, newForm())
	}
	to, channels := recipientOf(p)
	secret, hash := newLinkSecret()
	b, err := s.DB.Book(ctx, storage.NewBooking{PersonID: p.ID, Service: svc.Service, Office: o.Code, Slot: sl,
		Mode: f.Values["modalita"], Lang: f.Values["lingua"], Interpreter: f.Values["interprete"] == "yes",
		Key: f.Values["key"], TokenHash: hash, Now: s.now()},
		func(tx pgx.Tx, b storage.Booking) error {
			// the messages the resident gets when booking themselves: the confirmation with the link to move or
			// cancel, and the reminder the day before
			if err := s.notifyBooked(ctx, tx, b, to, channels, secret); err != nil {
				return err
			}
			return storage.Audit(ctx, tx, staffActor(c), storage.AuditEntry{Action: "booking.create", Detail: map[string]string{
				"booking_id": strconv.FormatInt(b.ID, 10), "person_id": strconv.FormatInt(p.ID, 10), "office": o.Code,
				"service": svc.Code, "starts_at": b.StartsAt.UTC().Format("2006-01-02T15:04Z")}})
		})
	switch {
	case errors.Is(err, storage.ErrSlotTaken):
		f.Error = "calendar.book.error.full"
	case errors.Is(err, storage.ErrBookingLimit):
		f.Error = "calendar.book.error.limit"
	case errors.Is(err, storage.ErrAlreadyBooked):
		f.Error = "calendar.book.error.already"
	case err != nil:
		return err
	}
	if f.Error != "" {
		f.Values["key"] = "" // a new key: the refused one booked nothing
		return s.renderBookFor(c, fiber.StatusConflict, office, cf, f, newForm())
	}
	return s.redirectWithNotice(c, calendarURL(b.Office, b.StartsAt), "calendar.book.done")
}
