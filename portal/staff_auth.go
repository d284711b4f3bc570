package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Lockout policy for staff sign-in. Every wrong password, TOTP code or recovery code is a failure of the
// account. Failures are counted in a window of an hour that starts at the first one. The first five cost nothing;
// from the fifth on, the next attempt waits 30 s, then 1, 2, 4, 8 minutes; the tenth locks the account for an
// hour (an admin can unlock it sooner). While the account waits or is locked, attempts are refused without
// checking anything, and only one check per account runs at a time (a Redis lock), so at most ten guesses per
// account get checked in a window — far below the hundred per hour that is the hard limit.
const (
	staffFreeFailures = 5
	staffLockFailures = 10
	staffFailWindow   = time.Hour
	staffLockFor      = time.Hour
	staffFirstBackoff = 30 * time.Second
	staffPendingTTL   = 10 * time.Minute // between a right password and its code
)

// staffNextAttempt returns when the account may next try, or the zero time if it may try now, and whether
// the wait is a lock (rather than a back-off).
func staffNextAttempt(a storage.StaffAttempts, now time.Time) (time.Time, bool) {
	if a.LockedUntil != nil && now.Before(*a.LockedUntil) {
		return *a.LockedUntil, true
	}
	if staffWindowOver(a, now) || a.Failures < staffFreeFailures || a.LastFailure == nil {
		return time.Time{}, false
	}
	if next := a.LastFailure.Add(staffFirstBackoff << (a.Failures - staffFreeFailures)); now.Before(next) {
		return next, false
	}
	return time.Time{}, false
}

func staffWindowOver(a storage.StaffAttempts, now time.Time) bool {
	return a.WindowStart == nil || !now.Before(a.WindowStart.Add(staffFailWindow))
}

// staffRecordFailure adds one failure at now.
func staffRecordFailure(a storage.StaffAttempts, now time.Time) storage.StaffAttempts {
	if staffWindowOver(a, now) {
		a = storage.StaffAttempts{WindowStart: &now}
	}
	a.Failures++
	a.LastFailure = &now
	if a.Failures >= staffLockFailures {
		until := now.Add(staffLockFor)
		a.LockedUntil = &until
	}
	return a
}

// staffWait is why an attempt was not checked: the account backs off or is locked until Until, or another
// attempt on it is running (Until is then a few seconds away).
type staffWait struct {
	Until  time.Time
	Locked bool
	Busy   bool
}

var unlockScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

// staffTry checks one sign-in step of account id under the lockout policy. check says whether what the person
// typed is right; a wrong answer is recorded as a failure. It returns the account as loaded before the check, and
// a non-nil wait when nothing was checked.
func (s *Server) staffTry(ctx context.Context, id int64, check func(*storage.StaffUser) (bool, error)) (*storage.StaffUser, bool, *staffWait, error) {
	now := s.now()
	key := s.Config.RedisPrefix + "lock:staff-signin:" + strconv.FormatInt(id, 10)
	token := rand.Text()
	_, err := s.Redis.SetArgs(ctx, key, token, redis.SetArgs{Mode: "NX", TTL: 15 * time.Second}).Result()
	if err == redis.Nil {
		return nil, false, &staffWait{Until: now.Add(3 * time.Second), Busy: true}, nil
	}
	if err != nil {
		return nil, false, nil, fmt.Errorf("staff sign-in: lock: %w", err)
	}
	defer unlockScript.Run(context.WithoutCancel(ctx), s.Redis, []string{key}, token) //nolint:errcheck // expires anyway

	u, err := s.DB.StaffUserByID(ctx, id)
	if err != nil {
		return nil, false, nil, err
	}
	if until, locked := staffNextAttempt(u.StaffAttempts, now); !until.IsZero() {
		return &u, false, &staffWait{Until: until, Locked: locked}, nil
	}
	ok, err := check(&u)
	if err != nil {
		return nil, false, nil, err
	}
	if !ok {
		if err := s.DB.RecordStaffFailure(ctx, id, func(a storage.StaffAttempts) storage.StaffAttempts {
			return staffRecordFailure(a, now)
		}); err != nil {
			return nil, false, nil, err
		}
	}
	return &u, ok, nil, nil
}

// dummyHash is checked against when a username is unknown or disabled, so the answer takes as long as for a real
// account and does not tell which usernames exist.
var dummyHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(rand.Text())
	if err != nil {
		panic(err)
	}
	return h
})

// TOTP: RFC 6238 with the parameters every authenticator app uses (SHA-1, 6 digits, 30 s).
const totpPeriod = 30

func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpMatch returns the time step, one step either side of now at most and later than last, whose code is code;
// 0 if there is none. A code is accepted once: after its step is recorded, it and every earlier code are refused.
func totpMatch(secret, code string, now time.Time, last int64) int64 {
	cur := totpStep(now)
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		if step <= last {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// normalizeDigits reads a code as typed: spaces dropped, digits of any script (Arabic-Indic, Gurmukhi,
// full-width…) read as ASCII digits. It returns "" if anything else is in it.
func normalizeDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '-':
		case unicode.Is(unicode.Nd, r):
			b.WriteRune('0' + digitValue(r))
		default:
			return ""
		}
	}
	return b.String()
}

// digitValue is the value of a decimal digit: Unicode lays every script's digits out as ten consecutive code points.
func digitValue(r rune) rune {
	for _, zero := range []rune{0x0660, 0x06F0, 0x0966, 0x0A66, 0xFF10} {
		if r >= zero && r <= zero+9 {
			return r - zero
		}
	}
	return 0
}

// Recovery codes: 16 base32 characters (80 random bits), shown as four groups of four.
const recoveryCodeCount = 10

func newRecoveryCodes() []string {
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		t := rand.Text()[:16]
		codes[i] = t[0:4] + "-" + t[4:8] + "-" + t[8:12] + "-" + t[12:16]
	}
	return codes
}

// normalizeRecoveryCode reads a recovery code as typed (any case, with or without dashes and spaces); "" if it
// cannot be one.
func normalizeRecoveryCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case (r >= 'A' && r <= 'Z') || (r >= '2' && r <= '7'):
			b.WriteRune(r)
		case r == '-' || unicode.IsSpace(r):
		default:
			return ""
		}
	}
	if b.Len() != 16 {
		return ""
	}
	return b.String()
}

// recoveryHash binds a normalized code to its account, so equal codes of two accounts never share a hash.
func recoveryHash(id int64, code string) []byte {
	h := sha256.New()
	h.Write([]byte("csc-staff-recovery\x00"))
	binary.Write(h, binary.BigEndian, id) //nolint:errcheck // a hash never fails
	h.Write([]byte(code))
	return h.Sum(nil)
}

// staffPending returns the account whose password was checked in this session and still awaits its code.
func (s *Server) staffPending(sess *Session) int64 {
	id, _ := sess.Get(keyStaffPending).(int64)
	at, _ := sess.Get(keyStaffPendingAt).(int64)
	if id == 0 || s.now().Unix()-at > int64(staffPendingTTL/time.Second) {
		return 0
	}
	return id
}

// staffPendingUser returns the enabled account awaiting its code in this session; when there is none it returns
// nil, having redirected to the sign-in page.
func (s *Server) staffPendingUser(c *fiber.Ctx) (*storage.StaffUser, error) {
	sess := s.staffSessions.of(c)
	id := s.staffPending(sess)
	if id == 0 {
		return nil, c.Redirect("/backoffice/accesso", fiber.StatusSeeOther)
	}
	u, err := s.DB.StaffUserByID(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.DisabledAt != nil) {
		clearStaffPending(sess)
		return nil, c.Redirect("/backoffice/accesso", fiber.StatusSeeOther)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func clearStaffPending(sess *Session) {
	sess.Set(keyStaffPending, int64(0))
	sess.Set(keyStaffPendingAt, int64(0))
}

// completeStaffSignIn ends a successful sign-in: the failure record is cleared and the session gets a new ID
// bound to the account.
func (s *Server) completeStaffSignIn(ctx context.Context, sess *Session, id int64) error {
	if err := s.DB.ResetStaffAttempts(ctx, id); err != nil {
		return err
	}
	clearStaffPending(sess)
	return sess.SignIn(ctx, staffKey(id))
}
