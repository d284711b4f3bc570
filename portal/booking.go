package portal

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Appointments: a resident chooses a service, an office (by comune), a day (the first with free places comes
// first) and a time; the time is held for them in Redis for holdTTL while they confirm; confirming books it in
// PostgreSQL, which alone decides who gets the last place (storage.Book), and writes the confirmation message in
// the same transaction. "I miei appuntamenti" lists them, with cancelling. Signing in is needed, except for services
// that allow guests: a visitor goes through the same steps and confirms with a code sent to their e-mail
// (booking_guest.go).

const (
	appointmentsPath = "/appuntamenti"
	bookingPath      = appointmentsPath + "/prenota"
	// holdTTL is how long a chosen time is kept for the resident while they confirm.
	holdTTL = 5 * time.Minute
	// nextSlotsShown is how many free times a "not available" page offers instead.
	nextSlotsShown = 6
)

func appointmentPath(id int64) string { return appointmentsPath + "/" + strconv.FormatInt(id, 10) }

func slotsPath(service, office string) string { return bookingPath + "/" + service + "/" + office }

// bookingTarget is the service and office of a booking page's URL.
type bookingTarget struct {
	Service storage.Service
	Office  storage.ServiceOffice
}

// bookingService finds the service in the URL.
func (s *Server) bookingService(c *fiber.Ctx) (storage.Service, error) {
	svc, err := s.DB.ServiceByCode(c.UserContext(), c.Params("service"))
	if errors.Is(err, storage.ErrNotFound) {
		return svc, errNotFound(err)
	}
	return svc, err
}

// bookingTargetOf finds the service and the office in the URL (the office must offer the service).
func (s *Server) bookingTargetOf(c *fiber.Ctx) (bookingTarget, error) {
	svc, err := s.bookingService(c)
	if err != nil {
		return bookingTarget{}, err
	}
	office, err := s.DB.ServiceOffice(c.UserContext(), svc.Code, c.Params("office"))
	if errors.Is(err, storage.ErrNotFound) {
		return bookingTarget{}, errNotFound(err)
	}
	return bookingTarget{Service: svc, Office: office}, err
}

// serviceTitle is a service's name in the request's language.
func (s *Server) serviceTitle(c *fiber.Ctx, msg string) string {
	return s.localizer(c).T("appointments.service." + msg + ".title")
}

// bookingCrumbs lead from the personal area to the booking steps before the current page (from the home page for a
// visitor not signed in).
func (s *Server) bookingCrumbs(c *fiber.Ctx, more ...views.Crumb) []views.Crumb {
	z := s.localizer(c)
	if personID(sessionOf(c)) == 0 {
		return append([]views.Crumb{s.home(c)}, more...)
	}
	return append([]views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"},
		{Title: z.T("appointments.mine.title"), URL: appointmentsPath}}, more...)
}

// bookingAllowed lets a signed-in resident book any service, and a visitor the services that allow guests; any
// other visitor is sent to sign in and brought back here afterwards (as requireCitizen does). false: the
// response is written.
func (s *Server) bookingAllowed(c *fiber.Ctx, svc storage.Service) (bool, error) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if personID(sessionOf(c)) != 0 || svc.GuestAllowed {
		return true, nil
	}
	return false, c.Redirect("/accesso?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
}

// slotView is a free time as a page shows it.
type slotView struct {
	Key   int64 // start, seconds since the epoch: the value forms send
	Start time.Time
	Time  string // "09:30–10:00", Europe/Rome
	Left  int
}

func viewSlots(all []slots.Slot) []slotView {
	out := make([]slotView, 0, len(all))
	for _, sl := range all {
		out = append(out, slotView{Key: sl.Key(), Start: sl.Start, Left: sl.Left(),
			Time: sl.Start.In(i18n.Rome).Format("15:04") + "–" + sl.End.In(i18n.Rome).Format("15:04")})
	}
	return out
}

// dayView is a day with free times.
type dayView struct {
	Param   string // "2006-01-02", the giorno parameter
	Date    time.Time
	Weekday int
	Free    int
}

func viewDay(d slots.Day, free int) dayView {
	return dayView{Param: d.String(), Date: d.In(i18n.Rome), Weekday: d.Weekday(), Free: free}
}

// typedChoices are what a resident chose on the confirm page (mode, meeting language, interpreter): carried through
// a "choose another time" page, so a refusal loses nothing.
type typedChoices struct {
	Mode, Lang, Interpreter string
}

func choicesOf(get func(string, ...string) string) typedChoices {
	return typedChoices{Mode: get("modalita"), Lang: get("lingua"), Interpreter: get("interprete")}
}

// query is the choices as URL parameters ("" when none).
func (t typedChoices) query() string {
	var parts []string
	for _, kv := range [][2]string{{"modalita", t.Mode}, {"lingua", t.Lang}, {"interprete", t.Interpreter}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+url.QueryEscape(kv[1]))
		}
	}
	return strings.Join(parts, "&")
}

// holdScript keeps a slot's place for a resident, atomically: a slot with places left can be held by as many
// residents at once as it has places left, each for holdTTL. One hash per slot maps a holder (a person's ID, or
// "g:<random>" for a visitor not signed in) to the end of their hold (unix seconds, from the portal's clock); ended
// holds are dropped on the way. Holding again extends one's own hold (never shortens the key's life). Returns 1
// when held, 0 when every free place is held by others. ARGV: holder, now, until, places left, time to live (ms),
// then the caller's other holder IDs (a visitor's, from before they signed in), which are not others.
var holdScript = redis.NewScript(`
local mine = {}
for i = 6, #ARGV do mine[ARGV[i]] = true end
local h = redis.call('HGETALL', KEYS[1])
local others = 0
for i = 1, #h, 2 do
  if h[i] ~= ARGV[1] and not mine[h[i]] then
    if tonumber(h[i + 1]) > tonumber(ARGV[2]) then others = others + 1 else redis.call('HDEL', KEYS[1], h[i]) end
  end
end
if others >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1`)

func (s *Server) holdKey(t bookingTarget, start int64) string {
	return s.Config.RedisPrefix + "hold:" + t.Office.Code + ":" + t.Service.Code + ":" + strconv.FormatInt(start, 10)
}

// hold keeps the slot for holder until now+ttl if a place is left that nobody else holds (mine are the caller's
// other holder IDs).
func (s *Server) hold(ctx context.Context, t bookingTarget, sl slots.Slot, holder string, mine []string, ttl time.Duration) (time.Time, bool, error) {
	now := s.now()
	until := now.Add(ttl)
	args := []any{holder, now.Unix(), until.Unix(), sl.Left(), ttl.Milliseconds()}
	for _, m := range mine {
		args = append(args, m)
	}
	n, err := holdScript.Run(ctx, s.Redis, []string{s.holdKey(t, sl.Key())}, args...).Int()
	if err != nil {
		return time.Time{}, false, err
	}
	return until, n == 1, nil
}

// keyGuestHolder is the session key of a visitor's holder ID ("g:<random>"): their holds are theirs, and stay
// theirs when they sign in on the confirm page (signing in keeps the session's values under a new ID).
const keyGuestHolder = "guest_holder"

// holderOf is who holds times for this request: the signed-in person, else the visitor's holder ID (made now and
// kept in the session when create is set; "" otherwise when they have none).
func holderOf(c *fiber.Ctx, create bool) string {
	sess := sessionOf(c)
	if id := personID(sess); id != 0 {
		return strconv.FormatInt(id, 10)
	}
	h, _ := sess.Get(keyGuestHolder).(string)
	if h == "" && create {
		h = "g:" + rand.Text()
		sess.Set(keyGuestHolder, h)
	}
	return h
}

// holdersOf are the holders whose holds this request may confirm: the signed-in person's and the ones they made
// before signing in.
func holdersOf(c *fiber.Ctx) []string {
	sess := sessionOf(c)
	var out []string
	if id := personID(sess); id != 0 {
		out = append(out, strconv.FormatInt(id, 10))
	}
	if h, _ := sess.Get(keyGuestHolder).(string); h != "" {
		out = append(out, h)
	}
	return out
}

// Hold states at confirmation.
const (
	holdOK      = ""
	holdExpired = "appointments.error.hold_expired"
	holdByOther = "appointments.error.held_by_other"
)

// heldFor reports whether one of holders holds the slot now, and until when; otherwise why not (message ID).
func (s *Server) heldFor(ctx context.Context, t bookingTarget, start int64, holders []string) (time.Time, string, error) {
	all, err := s.Redis.HGetAll(ctx, s.holdKey(t, start)).Result()
	if err != nil {
		return time.Time{}, "", err
	}
	now := s.now().Unix()
	state := holdExpired
	for who, v := range all {
		until, _ := strconv.ParseInt(v, 10, 64)
		if until <= now {
			continue
		}
		if slices.Contains(holders, who) {
			return time.Unix(until, 0), holdOK, nil
		}
		state = holdByOther
	}
	return time.Time{}, state, nil
}

// release ends the holders' holds on a slot (after booking it).
func (s *Server) release(ctx context.Context, t bookingTarget, start int64, holders []string) error {
	if len(holders) == 0 {
		return nil
	}
	return s.Redis.HDel(ctx, s.holdKey(t, start), holders...).Err()
}

// findSlot checks that start is a slot the rules offer now: the message ID of why not otherwise.
func (s *Server) findSlot(c *fiber.Ctx, t bookingTarget, start int64) (slots.Slot, string, error) {
	now := s.now()
	at := time.Unix(start, 0)
	if !at.After(now) {
		return slots.Slot{}, "appointments.error.past", nil
	}
	rules, err := s.DB.SlotRules(c.UserContext(), t.Service, t.Office, now)
	if err != nil {
		return slots.Slot{}, "", err
	}
	sl, ok := slots.Find(rules, at, now)
	if !ok {
		return slots.Slot{}, "appointments.error.not_offered", nil
	}
	taken, err := s.DB.Taken(c.UserContext(), t.Office.Code, t.Service.Code, sl.Start, sl.End)
	if err != nil {
		return slots.Slot{}, "", err
	}
	sl.Taken = taken[sl.Key()]
	return sl, "", nil
}

// heldSlot finds the time at start among those the rules offer and checks that the request's holders hold it;
// when not, it renders why with the next free times and reports ok false (err is the rendering's).
func (s *Server) heldSlot(c *fiber.Ctx, t bookingTarget, start int64, typed typedChoices) (sl slots.Slot, until time.Time, ok bool, err error) {
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return sl, until, false, err
	}
	if why != "" {
		return sl, until, false, s.renderUnavailable(c, fiber.StatusUnprocessableEntity, t, why, typed)
	}
	until, state, err := s.heldFor(c.UserContext(), t, start, holdersOf(c))
	if err != nil {
		return sl, until, false, err
	}
	if state != holdOK {
		return sl, until, false, s.renderUnavailable(c, fiber.StatusConflict, t, state, typed)
	}
	return sl, until, true, nil
}

// nextFree returns the first free times of the service at the office from now on.
func (s *Server) nextFree(c *fiber.Ctx, t bookingTarget, n int) ([]slots.Slot, error) {
	ctx := c.UserContext()
	free, err := s.DB.FreeSlots(ctx, t.Service, t.Office, 0, slots.DayOf(s.now(), i18n.Rome)+366, s.now())
	if err != nil {
		return nil, err
	}
	// Leave out the times whose free places others are confirming: offered to someone just refused, they would
	// only be refused again. The holds of the first candidates are read in one round trip, a few more than shown.
	mine := holdersOf(c)
	now := s.now().Unix()
	out := make([]slots.Slot, 0, n)
	for len(free) > 0 && len(out) < n {
		batch := free[:min(2*n, len(free))]
		free = free[len(batch):]
		pipe := s.Redis.Pipeline()
		holds := make([]*redis.MapStringStringCmd, len(batch))
		for i, sl := range batch {
			holds[i] = pipe.HGetAll(ctx, s.holdKey(t, sl.Key()))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for i, sl := range batch {
			others := 0
			for who, v := range holds[i].Val() {
				if until, _ := strconv.ParseInt(v, 10, 64); until > now && !slices.Contains(mine, who) {
					others++
				}
			}
			if others < sl.Left() && len(out) < n {
				out = append(out, sl)
			}
		}
	}
	return out, nil
}

// renderUnavailable is the page of a time that cannot be had (past, not offered, held by someone else, just
// taken, hold expired): why, in the resident's language, and the next free times to hold instead, carrying what
// they had chosen on the confirm page.
func (s *Server) renderUnavailable(c *fiber.Ctx, status int, t bookingTarget, why string, typed typedChoices) error {
	next, err := s.nextFree(c, t, nextSlotsShown)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, status, "booking_unavailable", z.T("appointments.unavailable.title"),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath}),
		map[string]any{"Target": t, "Why": why, "Slots": viewSlots(next), "Typed": typed,
			"Action": slotsPath(t.Service.Code, t.Office.Code)})
}

// orNewKey keeps a confirm form's key, or makes one: the key makes a double click book once.
func orNewKey(key string) string {
	if startKey.MatchString(key) {
		return key
	}
	return rand.Text()
}

// meetingLanguage reports whether code is a language an appointment can be held in (with an interpreter when needed).
func meetingLanguage(code string) bool {
	return slices.ContainsFunc(i18n.Languages, func(l i18n.Language) bool { return l.Code == code })
}
