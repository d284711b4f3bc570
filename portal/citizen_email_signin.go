package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// E-mail sign-in codes: 6 digits, valid 10 minutes, single use, at most 5 tries, stored only as an HMAC in Redis.
const (
	codeTTL      = 10 * time.Minute
	codeMaxTries = 5
)

// Requests for a code are limited per address (so nobody floods a mailbox) and per client address.
var (
	codesPerAddress = redis_rate.Limit{Rate: 3, Burst: 3, Period: 15 * time.Minute}
	codesPerClient  = redis_rate.Limit{Rate: 20, Burst: 20, Period: time.Hour}
)

// checkCode atomically counts a try and, if the code matches, deletes it: a code works once, and the fifth wrong
// try deletes it too. Returns 1 match, 0 wrong, -1 no tries left, -2 no code (expired or never sent).
var checkCode = redis.NewScript(`
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return -2 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
if n >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return -1 end
return 0`)

func (s *Server) codeKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return s.Config.RedisPrefix + "otp:" + hex.EncodeToString(sum[:])
}

func (s *Server) codeHash(email, code string) string {
	m := hmac.New(sha256.New, s.Config.SessionSecret)
	m.Write([]byte("signin-code\x00" + email + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// sendSignInCode validates the address, applies the limits, stores a new code and sends it through the outbox.
func (s *Server) sendSignInCode(c *fiber.Ctx) error {
	if !s.Config.Identity.EmailSignIn {
		return errNotFound(nil)
	}
	form := newForm()
	form.Values["email"] = c.FormValue("email")
	email, msg := forms.NormalizeEmail(form.Values["email"])
	form.fail("email", msg)
	if !form.ok() {
		return s.renderSignIn(c, fiber.StatusUnprocessableEntity, form)
	}
	ctx := c.UserContext()
	for key, limit := range map[string]redis_rate.Limit{
		s.Config.RedisPrefix + "rl:code:addr:" + s.codeKey(email): codesPerAddress,
		s.Config.RedisPrefix + "rl:code:ip:" + clientAddr(c):      codesPerClient,
	} {
		res, err := s.limiter.Allow(ctx, key, limit)
		if err != nil {
			return fmt.Errorf("signin code: limit: %w", err)
		}
		if res.Allowed == 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(res.RetryAfter/time.Second)+1))
			form.Error = "form.error.code_too_many_requests"
			return s.renderSignIn(c, fiber.StatusTooManyRequests, form)
		}
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	key := s.codeKey(email)
	pipe := s.Redis.TxPipeline()
	pipe.Del(ctx, key)
	pipe.HSet(ctx, key, "h", s.codeHash(email, code), "n", 0)
	pipe.Expire(ctx, key, codeTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("signin code: store: %w", err)
	}
	tx, err := s.DB.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("signin code: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	err = s.Outbox.Enqueue(ctx, tx, notifications.Message{
		Kind:      "signin_code",
		To:        notifications.Recipient{Email: email, Lang: s.localizer(c).Lang.Code},
		Channels:  []notifications.Channel{notifications.Email},
		Data:      map[string]string{"Code": code, "Minutes": strconv.Itoa(int(codeTTL / time.Minute))},
		UniqueKey: "signin-code:" + s.codeHash(email, code)[:32],
	})
	if err != nil {
		return fmt.Errorf("signin code: enqueue: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("signin code: %w", err)
	}
	sessionOf(c).Set(keyOTPEmail, email)
	return c.Redirect("/accesso/email/codice", fiber.StatusSeeOther)
}

func (s *Server) showCodePage(c *fiber.Ctx) error {
	if _, ok := sessionOf(c).Get(keyOTPEmail).(string); !ok {
		return c.Redirect("/accesso", fiber.StatusSeeOther)
	}
	return s.renderCodePage(c, fiber.StatusOK, newForm())
}

func (s *Server) renderCodePage(c *fiber.Ctx, status int, form *formState) error {
	email, _ := sessionOf(c).Get(keyOTPEmail).(string)
	z := s.localizer(c)
	return s.render(c, status, "signin_code", z.T("page.signin_code.title"),
		[]views.Crumb{s.home(c), {Title: z.T("page.signin.title"), URL: "/accesso"}},
		map[string]any{"Form": form, "Email": email})
}

// checkSignInCode signs the resident in when the code matches; a first sign-in goes on to the fiscal code.
func (s *Server) checkSignInCode(c *fiber.Ctx) error {
	sess := sessionOf(c)
	email, ok := sess.Get(keyOTPEmail).(string)
	if !ok {
		return c.Redirect("/accesso", fiber.StatusSeeOther)
	}
	form := newForm()
	code := digitsOnly(c.FormValue("code"))
	form.Values["code"] = c.FormValue("code")
	if len(code) != 6 {
		form.fail("code", "form.error.code_format")
		return s.renderCodePage(c, fiber.StatusUnprocessableEntity, form)
	}
	ctx := c.UserContext()
	res, err := checkCode.Run(ctx, s.Redis, []string{s.codeKey(email)}, s.codeHash(email, code), codeMaxTries).Int()
	if err != nil {
		return fmt.Errorf("signin code: check: %w", err)
	}
	switch res {
	case 0:
		form.fail("code", "form.error.code_wrong")
		return s.renderCodePage(c, fiber.StatusUnprocessableEntity, form)
	case -1, -2:
		form.fail("code", "form.error.code_expired")
		return s.renderCodePage(c, fiber.StatusUnprocessableEntity, form)
	}
	sess.Delete(keyOTPEmail)
	p, err := s.DB.PersonByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		// The address is proved; the fiscal code is asked once. Privilege has not changed yet, but the session
		// now holds a proof of ownership: give it a new ID.
		if err := sess.Renew(); err != nil {
			return err
		}
		sess.Set(keyVerified, email)
		return c.Redirect("/accesso/codice-fiscale", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	if err := s.DB.RecordSignIn(ctx, p.ID, "email", ""); err != nil {
		return err
	}
	return s.signInCitizen(ctx, c, p, "email", "")
}

func digitsOnly(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == ' ' || c == '-':
		default:
			return ""
		}
	}
	return string(b)
}

func (s *Server) showFiscalCodePage(c *fiber.Ctx) error {
	if _, ok := sessionOf(c).Get(keyVerified).(string); !ok {
		return c.Redirect("/accesso", fiber.StatusSeeOther)
	}
	return s.renderFiscalCodePage(c, fiber.StatusOK, newForm())
}

func (s *Server) renderFiscalCodePage(c *fiber.Ctx, status int, form *formState) error {
	z := s.localizer(c)
	return s.render(c, status, "signin_cf", z.T("page.signin_cf.title"),
		[]views.Crumb{s.home(c), {Title: z.T("page.signin.title"), URL: "/accesso"}}, map[string]any{"Form": form})
}

// submitFiscalCode completes a first e-mail sign-in: the fiscal code (checksum, omocodia), names and the privacy
// notice. A fiscal code already registered to someone else is refused: it cannot be claimed by a second address.
func (s *Server) submitFiscalCode(c *fiber.Ctx) error {
	sess := sessionOf(c)
	email, ok := sess.Get(keyVerified).(string)
	if !ok {
		return c.Redirect("/accesso", fiber.StatusSeeOther)
	}
	form := newForm()
	for _, f := range []string{"fiscal_code", "given_name", "family_name", "privacy"} {
		form.Values[f] = c.FormValue(f)
	}
	cf, msg := forms.ParseCodiceFiscale(form.Values["fiscal_code"], s.now())
	form.fail("fiscal_code", msg)
	given, family := forms.CleanName(form.Values["given_name"]), forms.CleanName(form.Values["family_name"])
	if given == "" {
		form.fail("given_name", "form.error.required")
	}
	if family == "" {
		form.fail("family_name", "form.error.required")
	}
	if form.Values["privacy"] != "yes" {
		form.fail("privacy", "form.error.privacy_required")
	}
	if !form.ok() {
		return s.renderFiscalCodePage(c, fiber.StatusUnprocessableEntity, form)
	}
	ctx := c.UserContext()
	p, err := s.DB.CreateFromEmail(ctx, email, storage.IdentityClaims{
		FiscalCode: cf.Code, GivenName: given, FamilyName: family, Lang: s.localizer(c).Lang.Code,
	}, s.welcome)
	if errors.Is(err, storage.ErrConflict) {
		form.fail("fiscal_code", "form.error.cf_taken")
		return s.renderFiscalCodePage(c, fiber.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	sess.Delete(keyVerified)
	return s.signInCitizen(ctx, c, p, "email", "")
}
