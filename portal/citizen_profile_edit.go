package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

func (s *Server) showProfilePage(c *fiber.Ctx) error {
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	return s.renderProfile(c, fiber.StatusOK, p, profileForm(p), false)
}

// profileForm fills the form with what is stored.
func profileForm(p storage.Person) *formState {
	form := newForm()
	if p.Email != nil {
		form.Values["email"] = *p.Email
	}
	form.Values["phone"] = p.Phone
	form.Values["lang"] = p.Lang
	form.Values["notify_email"] = yes(p.NotifyEmail)
	form.Values["notify_sms"] = yes(p.NotifySMS)
	return form
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func (s *Server) renderProfile(c *fiber.Ctx, status int, p storage.Person, form *formState, saved bool) error {
	consents, err := s.DB.Consents(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, status, "profile", z.T("page.profile.title"),
		[]views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"}},
		map[string]any{"Person": p, "Form": form, "Consents": consents, "Saved": saved})
}

// submitProfile saves contacts, preferred language (used for every message) and channels. SMS needs a phone
// number; the choice of SMS is recorded as a consent with its date.
func (s *Server) submitProfile(c *fiber.Ctx) error {
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	form := newForm()
	for _, f := range []string{"email", "phone", "lang", "notify_email", "notify_sms"} {
		form.Values[f] = c.FormValue(f)
	}
	var email *string
	if form.Values["email"] != "" {
		e, msg := forms.NormalizeEmail(form.Values["email"])
		form.fail("email", msg)
		email = &e
	}
	phone, msg := forms.NormalizePhone(form.Values["phone"])
	form.fail("phone", msg)
	lang, ok := s.I18n.Lookup(form.Values["lang"])
	if !ok {
		form.fail("lang", "form.error.lang_invalid")
	}
	notifyEmail, notifySMS := form.Values["notify_email"] == "yes", form.Values["notify_sms"] == "yes"
	if notifyEmail && email == nil {
		form.fail("email", "form.error.email_needed")
	}
	if notifySMS && phone == "" && form.Errors["phone"] == "" {
		form.fail("phone", "form.error.phone_needed")
	}
	if !form.ok() {
		return s.renderProfile(c, fiber.StatusUnprocessableEntity, p, form, false)
	}
	ctx := c.UserContext()
	err = s.DB.UpdateProfile(ctx, p.ID, storage.ProfileUpdate{Email: email, Phone: phone, Lang: lang.Code,
		NotifyEmail: notifyEmail, NotifySMS: notifySMS})
	if errors.Is(err, storage.ErrConflict) {
		form.fail("email", "form.error.email_taken")
		return s.renderProfile(c, fiber.StatusUnprocessableEntity, p, form, false)
	}
	if err != nil {
		return err
	}
	if notifySMS != p.NotifySMS {
		if err := s.DB.SetConsent(ctx, p.ID, "notifications_sms", notifySMS); err != nil {
			return err
		}
	}
	sessionOf(c).Set(keyLang, lang.Code)
	c.Locals(localLocalizer, s.I18n.Localizer(lang.Code)) // the confirmation is shown in the language just chosen
	p, err = s.currentPerson(c)
	if err != nil {
		return err
	}
	return s.renderProfile(c, fiber.StatusOK, p, profileForm(p), true)
}
