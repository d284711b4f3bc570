package portal

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// totpIssuer names the account in the authenticator app.
const totpIssuer = "CSC Smart Services"

// showStaffTOTPEnrolPage shows the QR code (and the same secret as text) for the authenticator app. The secret is
// stored when the page is first shown and kept until a code confirms it, so a reload shows the same QR code.
func (s *Server) showStaffTOTPEnrolPage(c *fiber.Ctx) error {
	u, err := s.staffEnrolling(c)
	if u == nil {
		return err
	}
	return s.renderStaffTOTPEnrol(c, fiber.StatusOK, u, "", "")
}

// staffEnrolling returns the account enrolling in this session. When there is none it returns a nil account, having
// redirected back to the password (or on to the code, if enrolment is done).
func (s *Server) staffEnrolling(c *fiber.Ctx) (*storage.StaffUser, error) {
	u, err := s.staffPendingUser(c)
	if u == nil {
		return nil, err
	}
	if u.Enrolled() {
		return nil, c.Redirect("/backoffice/accesso/codice", fiber.StatusSeeOther)
	}
	return u, nil
}

func (s *Server) renderStaffTOTPEnrol(c *fiber.Ctx, status int, u *storage.StaffUser, codeErr, alert string) error {
	secret, err := s.DB.StartStaffTOTP(c.UserContext(), u.ID, newTOTPSecret())
	if err != nil {
		return err
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return fmt.Errorf("totp: stored secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Username, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Period: totpPeriod})
	if err != nil {
		return fmt.Errorf("totp: key: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return fmt.Errorf("totp: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("totp: qr code: %w", err)
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	errs := map[string]string{}
	if codeErr != "" {
		errs["code"] = codeErr
	}
	return s.renderStaff(c, status, "staff_totp_enrol", s.localizer(c).T("staff.enrol.title"), nil, map[string]any{
		"QR":       template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), // our own PNG
		"Secret":   strings.Join(groups, " "),
		"Username": u.Username,
		"Errors":   errs,
		"Alert":    alert,
	})
}

// newTOTPSecret returns 20 random bytes in base32, as authenticator apps expect.
func newTOTPSecret() string {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: "x"})
	if err != nil {
		panic(err) // only a failing random source, which crypto/rand never returns
	}
	return key.Secret()
}

// submitStaffTOTPEnrol confirms enrolment with one valid code, signs the session in and shows the recovery codes.
func (s *Server) submitStaffTOTPEnrol(c *fiber.Ctx) error {
	u, err := s.staffEnrolling(c)
	if u == nil {
		return err
	}
	ctx := c.UserContext()
	code := normalizeDigits(c.FormValue("code"))
	if msg := codeFormatError(c.FormValue("code"), code); msg != "" {
		return s.renderStaffTOTPEnrol(c, fiber.StatusUnprocessableEntity, u, msg, s.localizer(c).T("staff.error.form"))
	}
	var step int64
	_, ok, wait, err := s.staffTry(ctx, u.ID, func(u *storage.StaffUser) (bool, error) {
		if u.TOTPSecret == nil {
			return false, nil
		}
		step = totpMatch(*u.TOTPSecret, code, s.now(), u.TOTPLastStep)
		return step != 0, nil
	})
	if err != nil {
		return err
	}
	if wait != nil {
		return s.renderStaffWait(c, wait, func(alert string) error {
			return s.renderStaffTOTPEnrol(c, fiber.StatusTooManyRequests, u, "", alert)
		})
	}
	if !ok {
		return s.renderStaffTOTPEnrol(c, fiber.StatusUnprocessableEntity, u, "staff.error.code_wrong", s.localizer(c).T("staff.error.form"))
	}
	codes := newRecoveryCodes()
	hashes := make([][]byte, len(codes))
	for i, rc := range codes {
		hashes[i] = recoveryHash(u.ID, normalizeRecoveryCode(rc))
	}
	confirmed, err := s.DB.ConfirmStaffTOTP(ctx, u.ID, step, hashes, s.now())
	if err != nil {
		return err
	}
	if !confirmed { // another request confirmed it first: sign in with a code like any other time
		return c.Redirect("/backoffice/accesso/codice", fiber.StatusSeeOther)
	}
	sess := s.staffSessions.of(c)
	if err := s.completeStaffSignIn(ctx, sess, u.ID); err != nil {
		return err
	}
	sess.Set(keyStaffCodes, strings.Join(codes, "\n"))
	return c.Redirect("/backoffice/codici-recupero", fiber.StatusSeeOther)
}

// codeFormatError returns the message for a code that cannot be a TOTP code, or "".
func codeFormatError(typed, code string) string {
	switch {
	case strings.TrimSpace(typed) == "":
		return "staff.error.code_required"
	case len(code) != 6:
		return "staff.error.code_format"
	}
	return ""
}
