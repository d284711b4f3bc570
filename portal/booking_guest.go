package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Guest bookings: for a service that allows guests (services.guest_allowed), a visitor who is not signed in goes
// through the same steps (their hold is under a holder ID of their session, keyGuestHolder), and on the confirm
// page either signs in (the hold stays theirs) or continues without an account: name, e-mail, optionally a mobile
// number, and the meeting's choices. A 6-digit code goes to the e-mail through the outbox, in the language they
// read the portal in, and the hold is kept until the code expires. The right code books the slot as the address's
// (bookings.guest_email, guest_verified_at) through the same storage.Book as a resident's: capacity enforced by
// PostgreSQL, the service's limit of open appointments counted per address, the confirm form's key making a
// retry land on the same booking. The confirmation carries the signed link to move or cancel it and the .ics.
//
// The code is stored only as an HMAC, in Redis, under the visitor's holder ID (so a code works only in the browser
// that asked for it, and only for the time it was asked for): at most guestCodeTries tries, valid guestCodeTTL on
// the portal's clock, used once. What the visitor typed waits in their session, so an expired or wrong code, a
// refused time or a new code loses nothing. Codes per address and per client address are rate-limited.

const (
	guestCodeTTL   = 10 * time.Minute
	guestCodeTries = 5
	// keyGuestPending is the session key of the guest booking waiting for its code (JSON of guestPending).
	keyGuestPending = "guest_booking"
	// keyGuestTyped keeps the name, e-mail and mobile number a guest typed last (JSON of guestTyped): a time lost
	// on the way (hold ended, taken) and held again finds them filled in.
	keyGuestTyped = "guest_typed"
	// guestNameMax is the longest name a guest may give (bookings.guest_name allows 100).
	guestNameMax = 100
)

// Codes requested for guest bookings, per address (nobody floods a mailbox) and per client address.
var (
	guestCodesPerAddress = redis_rate.Limit{Rate: 5, Burst: 5, Period: time.Hour}
	guestCodesPerClient  = redis_rate.Limit{Rate: 20, Burst: 20, Period: time.Hour}
)

// guestPending is a guest booking as typed, waiting for its code; Link is set once it is booked.
type guestPending struct {
	Service, Office string
	Start           int64
	Name, Email     string // as normalized
	Phone           string // "" or +digits
	Mode, Lang      string // of the meeting
	Interpreter     string // "yes" or ""
	Key             string // the confirm form's key
	MsgLang         string // the language of the visitor's messages: the page's when they asked for the code
	Booked          bool   // the code was used and the booking made
	Link            string // the booking's link (with its secret) once booked here: a replayed code points there
}

func (p guestPending) isFor(t bookingTarget, start int64) bool {
	return p.Service == t.Service.Code && p.Office == t.Office.Code && p.Start == start
}

func (p guestPending) choices() typedChoices {
	return typedChoices{Mode: p.Mode, Lang: p.Lang, Interpreter: p.Interpreter}
}

// guestTyped is what a guest typed about themselves, as typed.
type guestTyped struct{ Name, Email, Phone string }

func typedOf(c *fiber.Ctx) guestTyped {
	raw, _ := sessionOf(c).Get(keyGuestTyped).(string)
	var g guestTyped
	_ = json.Unmarshal([]byte(raw), &g) // nothing typed yet: empty
	return g
}

func setTyped(c *fiber.Ctx, g guestTyped) {
	b, _ := json.Marshal(g)
	sessionOf(c).Set(keyGuestTyped, string(b))
}

// pendingOf returns the session's guest booking waiting for a code, if any.
func pendingOf(c *fiber.Ctx) (guestPending, bool) {
	raw, _ := sessionOf(c).Get(keyGuestPending).(string)
	var p guestPending
	if raw == "" || json.Unmarshal([]byte(raw), &p) != nil {
		return guestPending{}, false
	}
	return p, true
}

func setPending(c *fiber.Ctx, p guestPending) {
	b, _ := json.Marshal(p) // plain strings: never fails
	sessionOf(c).Set(keyGuestPending, string(b))
}

// guestCodeKey is the Redis key of the code of a visitor's holder ID.
func (s *Server) guestCodeKey(holder string) string {
	sum := sha256.Sum256([]byte(holder))
	return s.Config.RedisPrefix + "guestcode:" + hex.EncodeToString(sum[:])
}

// guestCodeHash binds a code to the visitor, the address and the time it confirms.
func (s *Server) guestCodeHash(holder string, p guestPending, code string) string {
	m := hmac.New(sha256.New, s.Config.SessionSecret)
	fmt.Fprintf(m, "guest-booking-code\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s", holder, p.Email, p.Service, p.Office, p.Start, code)
	return hex.EncodeToString(m.Sum(nil))
}

// checkGuestCode counts a try and compares, atomically. Results: guestCodeMatch (the code is used up: its hash
// stays as "u", so a replay is told apart from a wrong code), the tries left after a wrong code (1 to 4), -1 no
// tries left (the code is dropped, and "x" marks why), -2 no code or expired, -3 this code was used already.
// ARGV: hash, tries, now (unix seconds, the portal's clock).
var checkGuestCode = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'h', 'n', 'exp', 'u', 'x')
if r[4] and r[4] == ARGV[1] then return -3 end
if not r[1] then
  if r[5] then return -1 end
  return -2
end
if tonumber(r[3]) <= tonumber(ARGV[3]) then redis.call('HDEL', KEYS[1], 'h', 'n', 'exp') return -2 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if r[1] == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'h', 'n', 'exp')
  redis.call('HSET', KEYS[1], 'u', ARGV[1])
  return 100
end
if n >= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], 'h', 'n', 'exp')
  redis.call('HSET', KEYS[1], 'x', 1)
  return -1
end
return tonumber(ARGV[2]) - n`)

const guestCodeMatch = 100

// sendGuestCode checks the limits on codes, keeps the slot held until the code expires, stores a new code (the
// previous one of this visitor stops working) and sends it. It returns the message ID of why not (with the HTTP
// status), or "" when the code is on its way. The address's open appointments are counted only once the code has
// proved it is the visitor's (storage.Book): before, the answer would tell anyone whether someone has appointments
// with the social services.
func (s *Server) sendGuestCode(c *fiber.Ctx, t bookingTarget, sl slots.Slot, p guestPending) (string, int, error) {
	ctx := c.UserContext()
	sum := sha256.Sum256([]byte(p.Email))
	for key, limit := range map[string]redis_rate.Limit{
		s.Config.RedisPrefix + "rl:guestcode:addr:" + hex.EncodeToString(sum[:]): guestCodesPerAddress,
		s.Config.RedisPrefix + "rl:guestcode:ip:" + clientAddr(c):                guestCodesPerClient,
	} {
		res, err := s.limiter.Allow(ctx, key, limit)
		if err != nil {
			return "", 0, fmt.Errorf("guest code: limit: %w", err)
		}
		if res.Allowed == 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(res.RetryAfter/time.Second)+1))
			return "appointments.guest.error.too_many_codes", fiber.StatusTooManyRequests, nil
		}
	}
	holder := holderOf(c, true)
	if _, ok, err := s.hold(ctx, t, sl, holder, nil, guestCodeTTL); err != nil {
		return "", 0, err
	} else if !ok {
		return holdByOther, fiber.StatusConflict, nil
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", 0, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	hash := s.guestCodeHash(holder, p, code)
	key := s.guestCodeKey(holder)
	pipe := s.Redis.TxPipeline()
	pipe.Del(ctx, key)
	pipe.HSet(ctx, key, "h", hash, "n", 0, "exp", s.now().Add(guestCodeTTL).Unix())
	pipe.Expire(ctx, key, guestCodeTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", 0, fmt.Errorf("guest code: store: %w", err)
	}
	tx, err := s.DB.Pool.Begin(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("guest code: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if err := s.Outbox.Enqueue(ctx, tx, notifications.Message{
		Kind:      notifications.KindAppointmentCode,
		To:        notifications.Recipient{Email: p.Email, Lang: p.MsgLang},
		Channels:  []notifications.Channel{notifications.Email},
		Data:      map[string]string{"Code": code, "Minutes": strconv.Itoa(int(guestCodeTTL / time.Minute))},
		UniqueKey: "appointment-code:" + hash[:32],
	}); err != nil {
		return "", 0, fmt.Errorf("guest code: enqueue: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", 0, fmt.Errorf("guest code: %w", err)
	}
	p.Booked, p.Link = false, ""
	setPending(c, p)
	return "", 0, nil
}

func guestCodePath(t bookingTarget, start int64) string {
	return slotsPath(t.Service.Code, t.Office.Code) + "/ospite/codice?inizio=" + strconv.FormatInt(start, 10)
}

// confirmURL is the confirm page of a held time with the choices carried.
func confirmURL(t bookingTarget, start int64, typed typedChoices) string {
	to := slotsPath(t.Service.Code, t.Office.Code) + "/conferma?inizio=" + strconv.FormatInt(start, 10)
	if q := typed.query(); q != "" {
		to += "&" + q
	}
	return to
}

// renderGuestSignIn explains that the service is booked signed in only, with the way to sign in and come back to
// the time held, the choices carried.
func (s *Server) renderGuestSignIn(c *fiber.Ctx, t bookingTarget, start int64, typed typedChoices) error {
	z := s.localizer(c)
	return s.render(c, fiber.StatusForbidden, "booking_signin", z.T("appointments.guest.signin_needed.title"),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath}),
		map[string]any{"Target": t, "SignIn": "/accesso?next=" + url.QueryEscape(confirmURL(t, start, typed))})
}

// guestRecipient is who a guest booking's messages go to: the address, and the mobile number when given.
func guestRecipient(b storage.Booking) (notifications.Recipient, []notifications.Channel) {
	to := notifications.Recipient{Email: b.GuestEmail, Phone: b.GuestPhone, Lang: b.GuestLang}
	channels := []notifications.Channel{notifications.Email}
	if b.GuestPhone != "" {
		channels = append(channels, notifications.SMS)
	}
	return to, channels
}
